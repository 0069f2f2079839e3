// Kasper's TopicProcessor loop in Go with sarama, the library Kasper (github.com/movio/kasper) is built
// on; Kasper's own source could not be fetched, so this follows its documented loop: one sarama Client,
// a partition consumer per input partition starting at the group's committed offset (else the earliest),
// batches of up to BatchSize messages or BatchWaitDuration, Process per partition with a Sender that
// collects ProducerMessages, SendMessages in bulk (acks = all), then mark and commit the batch's offsets.
// The processor is the identity to the same partition of the output topic. The window runs from the
// first fetched message to the commit of the last one; the last stdout line is the contender report.
package main

import (
	"encoding/json"
	"fmt"
	"os"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/IBM/sarama"
)

const batchWaitDuration = time.Second

func env(name string) string {
	value, ok := os.LookupEnv(name)
	if !ok {
		fail(fmt.Errorf("%s is required", name))
	}
	return value
}

func envInt(name string) int {
	n, err := strconv.Atoi(env(name))
	if err != nil {
		fail(fmt.Errorf("%s: %w", name, err))
	}
	return n
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, err)
	os.Exit(1)
}

// sender is Kasper's Sender: messages are collected and sent in bulk once Process returns.
type sender struct{ messages []*sarama.ProducerMessage }

func (s *sender) Send(msg *sarama.ProducerMessage) { s.messages = append(s.messages, msg) }

// encoder keeps a null key null (sarama.ByteEncoder(nil) would be an empty key).
func encoder(b []byte) sarama.Encoder {
	if b == nil {
		return nil
	}
	return sarama.ByteEncoder(b)
}

func passThrough(output string) func([]*sarama.ConsumerMessage, *sender) error {
	return func(messages []*sarama.ConsumerMessage, s *sender) error {
		for _, m := range messages {
			s.Send(&sarama.ProducerMessage{Topic: output, Partition: m.Partition, Key: encoder(m.Key), Value: encoder(m.Value)})
		}
		return nil
	}
}

func newConfig() *sarama.Config {
	config := sarama.NewConfig()
	config.ClientID = "kasper-bench-go"
	config.Version = sarama.V4_3_1_0
	config.Consumer.Fetch.Default = 1024 * 1024
	// The broker serves one request per connection at a time, and Kasper's single client shares one
	// connection for fetch, produce and commit: a fetch parked on the drained input holds up the last
	// batch's produce and commit for up to MaxWaitTime. 100 ms, the least sarama recommends, instead of
	// its 500 ms default.
	config.Consumer.MaxWaitTime = 100 * time.Millisecond
	config.Consumer.Offsets.Initial = sarama.OffsetOldest
	config.Consumer.Offsets.AutoCommit.Enable = false
	config.Consumer.Return.Errors = true
	config.Producer.RequiredAcks = sarama.WaitForAll
	config.Producer.Idempotent = true
	config.Producer.Partitioner = sarama.NewManualPartitioner
	config.Producer.Compression = sarama.CompressionNone
	config.Producer.Return.Successes = true
	// A batch arrives at once through SendMessages: fill produce requests up to 1 MiB, with a short
	// linger so that the batch's tail (and small batches) go out without waiting on more.
	config.Producer.Flush.Bytes = 1024 * 1024
	config.Producer.Flush.Frequency = time.Millisecond
	config.Net.MaxOpenRequests = 1 // required by the idempotent producer
	return config
}

func main() {
	input, output, group := env("BENCH_INPUT"), env("BENCH_OUTPUT"), env("BENCH_GROUP")
	partitions, batchSize, total := envInt("BENCH_PARTITIONS"), envInt("BENCH_BATCH_SIZE"), envInt("BENCH_MESSAGES")

	client, err := sarama.NewClient(strings.Split(env("BENCH_BROKERS"), ","), newConfig())
	if err != nil {
		fail(err)
	}
	defer client.Close()
	consumer, err := sarama.NewConsumerFromClient(client)
	if err != nil {
		fail(err)
	}
	defer consumer.Close()
	producer, err := sarama.NewSyncProducerFromClient(client)
	if err != nil {
		fail(err)
	}
	defer producer.Close()
	offsets, err := sarama.NewOffsetManagerFromClient(group, client)
	if err != nil {
		fail(err)
	}
	defer offsets.Close()

	// sarama gives a channel per partition; they are merged so that the loop itself stays single-threaded.
	messages := make(chan *sarama.ConsumerMessage, 256)
	consumerErrors := make(chan error, 1)
	done := make(chan struct{})
	poms := make(map[int32]sarama.PartitionOffsetManager, partitions)
	for p := range int32(partitions) {
		pom, err := offsets.ManagePartition(input, p)
		if err != nil {
			fail(err)
		}
		defer pom.AsyncClose() // Close would wait for the offset manager to close first
		poms[p] = pom
		next, _ := pom.NextOffset()
		pc, err := consumer.ConsumePartition(input, p, next)
		if err != nil {
			fail(err)
		}
		defer pc.Close()
		go func() {
			for msg := range pc.Messages() {
				select {
				case messages <- msg:
				case <-done:
					return
				}
			}
		}()
		go func() {
			for err := range pc.Errors() {
				consumerErrors <- err
			}
		}()
	}

	defer close(done) // first of the deferred calls: the merging stops before the consumers close

	process := passThrough(output)
	batch := make(map[int32][]*sarama.ConsumerMessage, partitions)
	batched, processed := 0, 0
	var started time.Time
	ticker := time.NewTicker(batchWaitDuration)
	defer ticker.Stop()

	processBatch := func() error {
		s := &sender{messages: make([]*sarama.ProducerMessage, 0, batched)}
		for _, partitionMessages := range batch {
			if err := process(partitionMessages, s); err != nil {
				return err
			}
		}
		if err := producer.SendMessages(s.messages); err != nil {
			return err
		}
		for p, partitionMessages := range batch {
			poms[p].MarkOffset(partitionMessages[len(partitionMessages)-1].Offset+1, "")
		}
		offsets.Commit()
		// Commit reports failures on the partition offset managers' error channels, not as a result.
		for _, pom := range poms {
			select {
			case err := <-pom.Errors():
				return fmt.Errorf("commit: %w", err)
			default:
			}
		}
		processed += batched
		clear(batch)
		batched = 0
		return nil
	}

	for processed < total {
		select {
		case msg := <-messages:
			if started.IsZero() {
				started = time.Now()
			}
			batch[msg.Partition] = append(batch[msg.Partition], msg)
			batched++
			// Benchmark shortcuts: once the batch holds everything left, no more fetches (see MaxWaitTime)
			// and the batch goes out at once, not after BatchWaitDuration.
			last := processed+batched >= total
			if last {
				consumer.PauseAll()
			}
			if batched >= batchSize || last {
				err = processBatch()
			}
		case <-ticker.C:
			if batched > 0 {
				err = processBatch()
			}
		case err = <-consumerErrors:
		}
		if err != nil {
			fail(err)
		}
	}
	seconds := time.Since(started).Seconds()

	var usage syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &usage); err != nil {
		fail(err)
	}
	report, err := json.Marshal(struct {
		Messages int     `json:"messages"`
		Seconds  float64 `json:"seconds"`
		MaxRssMb float64 `json:"maxRssMb"`
	}{processed, seconds, float64(usage.Maxrss) / 1024})
	if err != nil {
		fail(err)
	}
	fmt.Println(string(report))
}
