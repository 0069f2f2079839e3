// Go Kasper itself (github.com/movio/kasper, through the replace in go.mod): its TopicProcessor with a
// pass-through MessageProcessor on every input partition, to the same partition of the output topic, acks =
// all. Its Close() does not return once the loop has drained, so the window runs from RunLoop() to the moment
// the output topic's end offsets add up to the input's record count (the last batch acknowledged); the
// program then prints its report and exits without closing. The sarama client is tuned as the sarama-loop
// contender's (../gobench), except where Go Kasper needs otherwise (below).
package main

import (
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/Shopify/sarama"
	"github.com/movio/kasper"
	"kasper-node/bench/contenders/gobench"
)

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
	config.Consumer.Fetch.Default = gobench.FetchBytes
	// Kasper's loop stops reading its partition consumers while it produces, so sarama drops their fetches
	// and the fetch left on the client's one connection per broker parks for MaxWaitTime ahead of every
	// produce request. At the sarama loop's 100 ms a 100k-record run took 46 s; at 10 ms, 7 s.
	config.Consumer.MaxWaitTime = 10 * time.Millisecond
	config.Consumer.Offsets.Initial = sarama.OffsetOldest
	// Without a retention, sarama 1.38.1 commits offsets with OffsetCommit v1, which Kafka 4.x no longer
	// accepts: the broker closes the connection and the loop stalls. The broker's default, 7 days, sends v2.
	config.Consumer.Offsets.Retention = 7 * 24 * time.Hour
	config.Producer.RequiredAcks = sarama.WaitForAll
	config.Producer.Idempotent = true
	config.Producer.Partitioner = sarama.NewManualPartitioner
	config.Producer.Return.Successes = true
	config.Producer.Flush.Bytes = gobench.FlushBytes
	config.Producer.Flush.Frequency = gobench.FlushFrequency
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
	input, output, group := gobench.Env("BENCH_INPUT"), gobench.Env("BENCH_OUTPUT"), gobench.Env("BENCH_GROUP")
	partitions, batchSize, total := gobench.EnvInt("BENCH_PARTITIONS"), gobench.EnvInt("BENCH_BATCH_SIZE"), gobench.EnvInt("BENCH_MESSAGES")
	brokers := strings.Split(gobench.Env("BENCH_BROKERS"), ",")

	client, err := sarama.NewClient(brokers, newConfig())
	if err != nil {
		gobench.Fail(err)
	}
	// A client of its own to watch the output: the processor's shares one connection per broker.
	watcher, err := sarama.NewClient(brokers, newConfig())
	if err != nil {
		gobench.Fail(err)
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
		BatchWaitDuration:  gobench.BatchWait,
	}, processors)

	started := time.Now()
	loopErrors := make(chan error, 1)
	go func() { loopErrors <- processor.RunLoop() }()
	poll := time.NewTicker(10 * time.Millisecond)
	for acknowledged := int64(0); acknowledged < int64(total); {
		select {
		case err := <-loopErrors:
			gobench.Fail(fmt.Errorf("RunLoop returned before the output was complete: %v", err))
		case <-poll.C:
			// A topic created just now may not be known everywhere yet: look again on the next tick.
			if acknowledged, err = outputRecords(watcher, output, partitions); err != nil {
				_ = watcher.RefreshMetadata(output)
			}
		}
	}
	gobench.Report(total, time.Since(started).Seconds())
	os.Exit(0) // Close() would wait forever (see above)
}
