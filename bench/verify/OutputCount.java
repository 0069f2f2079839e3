// Counts a topic's records as a consumer with the given isolation level sees them (read_committed: committed
// transactional records and non-transactional ones; markers and aborted records are not records). Reads every
// partition from the beginning up to its end offset for that isolation level (the last stable offset for
// read_committed), then prints the count as {"messages": N}, the bench's contender report.
// Usage: OutputCount <brokers> <topic> <read_committed|read_uncommitted>
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.PartitionInfo;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;

public final class OutputCount {
  public static void main(String[] args) {
    Map<String, Object> config = Map.of(
        ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, args[0],
        ConsumerConfig.ISOLATION_LEVEL_CONFIG, args[2],
        ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false,
        ConsumerConfig.MAX_POLL_RECORDS_CONFIG, 10_000);
    try (KafkaConsumer<byte[], byte[]> consumer =
        new KafkaConsumer<>(config, new ByteArrayDeserializer(), new ByteArrayDeserializer())) {
      List<TopicPartition> partitions = new ArrayList<>();
      for (PartitionInfo info : consumer.partitionsFor(args[1])) partitions.add(new TopicPartition(args[1], info.partition()));
      consumer.assign(partitions);
      consumer.seekToBeginning(partitions);
      Map<TopicPartition, Long> ends = consumer.endOffsets(partitions);
      long count = 0;
      while (partitions.stream().anyMatch(p -> consumer.position(p) < ends.get(p))) {
        count += consumer.poll(Duration.ofMillis(500)).count();
      }
      System.out.println("{\"messages\":" + count + "}");
    }
  }
}
