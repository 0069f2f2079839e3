// Go Kasper itself (github.com/movio/kasper, through the replace in go.mod): its TopicProcessor with a
// pass-through MessageProcessor on every input partition, to the same partition of the output topic, acks =
// all. Its Close() does not return once the loop has drained, so the window runs from RunLoop() to the moment
// the output topic's end offsets add up to the input's record count (the last batch acknowledged); the
// program then prints its report and exits without closing. The sarama client is tuned like the sarama-loop
// contender's (../go-sarama), so that the two Go rows differ by their loop only.
package main

import (
	"encoding/json"
	"fmt"
	"os"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/Shopify/sarama"
	"github.com/movio/kasper"
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

type passThrough struct{ output string }

func (p passThrough) Process(messages []*sarama.ConsumerMessage, sender kasper.Sender) error {
	for _, m := range messages {
		message := &sarama.ProducerMessage{Topic: p.output, Partition: m.Partition, Value: sarama.ByteEncoder(m.Value)}
		if m.Key != nil {
			message.Key = sarama.ByteEncoder(m.Key)
		}
		sender.Send(message)
	}
	return nil
}

func newConfig() *sarama.Config {
	config := sarama.NewConfig()
	config.ClientID = "kasper-bench-go-kasper"
	// sarama 1.38.1 speaks to Kafka 4.x from 2.8 on (older request versions were removed from the broker).
	config.Version = sarama.V2_8_0_0
	config.Consumer.Fetch.Default = 1024 * 1024
	config.Consumer.MaxWaitTime = 100 * time.Millisecond
	config.Consumer.Offsets.Initial = sarama.OffsetOldest
	config.Producer.RequiredAcks = sarama.WaitForAll
	config.Producer.Idempotent = true
	config.Producer.Partitioner = sarama.NewManualPartitioner
	config.Producer.Return.Successes = true
	config.Producer.Flush.Bytes = 1024 * 1024
	config.Producer.Flush.Frequency = time.Millisecond
	config.Net.MaxOpenRequests = 1 // required by the idempotent producer
	return config
}

// outputRecords adds up the output topic's end offsets, one ListOffsets request per partition leader.
func outputRecords(client sarama.Client, topic string, partitions int) (int64, error) {
	requests := map[*sarama.Broker]*sarama.OffsetRequest{}
	for p := range int32(partitions) {
		leader, err := client.Leader(topic, p)
		if err != nil {
			return 0, err
		}
		if requests[leader] == nil {
			requests[leader] = &sarama.OffsetRequest{Version: 1}
		}
		requests[leader].AddBlock(topic, p, sarama.OffsetNewest, 1)
	}
	var sum int64
	for broker, request := range requests {
		response, err := broker.GetAvailableOffsets(request)
		if err != nil {
			return 0, err
		}
		for _, block := range response.Blocks[topic] {
			if block.Err != sarama.ErrNoError {
				return 0, block.Err
			}
			sum += block.Offset
		}
	}
	return sum, nil
}

func main() {
	input, output, group := env("BENCH_INPUT"), env("BENCH_OUTPUT"), env("BENCH_GROUP")
	partitions, batchSize, total := envInt("BENCH_PARTITIONS"), envInt("BENCH_BATCH_SIZE"), envInt("BENCH_MESSAGES")
	brokers := strings.Split(env("BENCH_BROKERS"), ",")

	client, err := sarama.NewClient(brokers, newConfig())
	if err != nil {
		fail(err)
	}
	// A client of its own to watch the output: the processor's shares one connection per broker.
	watcher, err := sarama.NewClient(brokers, newConfig())
	if err != nil {
		fail(err)
	}
	inputPartitions := make([]int, partitions)
	processors := make(map[int]kasper.MessageProcessor, partitions)
	for p := range partitions {
		inputPartitions[p] = p
		processors[p] = passThrough{output}
	}
	processor := kasper.NewTopicProcessor(&kasper.Config{
		TopicProcessorName: group,
		Client:             client,
		InputTopics:        []string{input},
		InputPartitions:    inputPartitions,
		BatchSize:          batchSize,
		BatchWaitDuration:  batchWaitDuration,
	}, processors)

	started := time.Now()
	loopErrors := make(chan error, 1)
	go func() { loopErrors <- processor.RunLoop() }()
	poll := time.NewTicker(10 * time.Millisecond)
	for acknowledged := int64(0); acknowledged < int64(total); {
		select {
		case err := <-loopErrors:
			fail(fmt.Errorf("RunLoop returned before the output was complete: %v", err))
		case <-poll.C:
			if acknowledged, err = outputRecords(watcher, output, partitions); err != nil {
				fail(err)
			}
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
	}{total, seconds, float64(usage.Maxrss) / 1024})
	if err != nil {
		fail(err)
	}
	fmt.Println(string(report))
	os.Exit(0) // Close() would wait forever (see above)
}
