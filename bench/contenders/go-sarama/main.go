// Kasper's TopicProcessor loop in Go with sarama, the library Kasper (github.com/movio/kasper) is built
// on; Kasper's own source could not be fetched, so this follows its documented loop: one sarama Client,
// a partition consumer per input partition starting at the group's committed offset (else the earliest),
// batches of up to BatchSize messages or BatchWaitDuration, Process per partition with a Sender that
// collects ProducerMessages, SendMessages in bulk (acks = all), then mark and commit the batch's offsets.
// The processor is the identity to the same partition of the output topic. The window runs from the
// first fetched message to the commit of the last one; the last stdout line is the contender report.
package main

import (
	"fmt"
	"strings"
	"time"

	"github.com/IBM/sarama"
	"kasper-node/bench/contenders/gobench"
)

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
	config.Consumer.Fetch.Default = gobench.FetchBytes
	config.Consumer.MaxWaitTime = gobench.MaxWait
	config.Consumer.Offsets.Initial = sarama.OffsetOldest
	config.Consumer.Offsets.AutoCommit.Enable = false
	config.Consumer.Return.Errors = true
	config.Producer.RequiredAcks = sarama.WaitForAll
	config.Producer.Idempotent = true
	config.Producer.Partitioner = sarama.NewManualPartitioner
	config.Producer.Compression = sarama.CompressionNone
	config.Producer.Return.Successes = true
	config.Producer.Flush.Bytes = gobench.FlushBytes
	config.Producer.Flush.Frequency = gobench.FlushFrequency
	config.Net.MaxOpenRequests = 1 // required by the idempotent producer
	return config
}

func main() {
	input, output, group := gobench.Env("BENCH_INPUT"), gobench.Env("BENCH_OUTPUT"), gobench.Env("BENCH_GROUP")
	partitions, batchSize, total := gobench.EnvInt("BENCH_PARTITIONS"), gobench.EnvInt("BENCH_BATCH_SIZE"), gobench.EnvInt("BENCH_MESSAGES")

	client, err := sarama.NewClient(strings.Split(gobench.Env("BENCH_BROKERS"), ","), newConfig())
	if err != nil {
		gobench.Fail(err)
	}
	defer client.Close()
	consumer, err := sarama.NewConsumerFromClient(client)
	if err != nil {
		gobench.Fail(err)
	}
	defer consumer.Close()
	producer, err := sarama.NewSyncProducerFromClient(client)
	if err != nil {
		gobench.Fail(err)
	}
	defer producer.Close()
	offsets, err := sarama.NewOffsetManagerFromClient(group, client)
	if err != nil {
		gobench.Fail(err)
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
			gobench.Fail(err)
		}
		defer pom.AsyncClose() // Close would wait for the offset manager to close first
		poms[p] = pom
		next, _ := pom.NextOffset()
		pc, err := consumer.ConsumePartition(input, p, next)
		if err != nil {
			gobench.Fail(err)
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
	ticker := time.NewTicker(gobench.BatchWait)
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
			gobench.Fail(err)
		}
	}
	gobench.Report(processed, time.Since(started).Seconds())
}
