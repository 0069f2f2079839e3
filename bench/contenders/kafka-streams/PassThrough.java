// Kafka Streams, the JVM library users would pick instead of Kasper: source → sink, bytes through, with the
// processing guarantee, thread count and batch size the bench gives (BENCH_* variables, as every contender).
// The window runs from the first RUNNING state (group joined, tasks assigned) until the output holds the
// input's record count: at_least_once watches the output's end offsets; exactly_once_v2 the group's
// committed input offsets (the input holds exactly that count from offset 0), which commit with the
// transaction that made the output visible: transaction markers occupy output offsets, so end offsets
// cannot tell. The report is the last stdout line (JSON).
import java.nio.file.Files;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.ListOffsetsOptions;
import org.apache.kafka.clients.admin.OffsetSpec;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.common.IsolationLevel;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.Serdes;
import org.apache.kafka.streams.KafkaStreams;
import org.apache.kafka.streams.StreamsBuilder;
import org.apache.kafka.streams.StreamsConfig;
import org.apache.kafka.streams.errors.StreamsUncaughtExceptionHandler.StreamThreadExceptionResponse;
import org.apache.kafka.streams.kstream.Consumed;
import org.apache.kafka.streams.kstream.Produced;

public final class PassThrough {
  private static String env(String name) {
    String value = System.getenv(name);
    if (value == null) throw new IllegalArgumentException(name + " is required");
    return value;
  }

  private static Map<TopicPartition, OffsetSpec> latest(String topic, int partitions) {
    Map<TopicPartition, OffsetSpec> specs = new HashMap<>();
    for (int p = 0; p < partitions; p++) specs.put(new TopicPartition(topic, p), OffsetSpec.latest());
    return specs;
  }

  private static long sum(Iterable<Long> offsets) {
    long total = 0;
    for (long offset : offsets) total += offset;
    return total;
  }

  public static void main(String[] args) throws Exception {
    String brokers = env("BENCH_BROKERS");
    String input = env("BENCH_INPUT");
    String output = env("BENCH_OUTPUT");
    String group = env("BENCH_GROUP");
    String guarantee = env("BENCH_GUARANTEE");
    int partitions = Integer.parseInt(env("BENCH_PARTITIONS"));
    long total = Long.parseLong(env("BENCH_MESSAGES"));
    boolean exactlyOnce = guarantee.equals(StreamsConfig.EXACTLY_ONCE_V2);

    Properties config = new Properties();
    config.put(StreamsConfig.APPLICATION_ID_CONFIG, group);
    config.put(StreamsConfig.BOOTSTRAP_SERVERS_CONFIG, brokers);
    config.put(StreamsConfig.PROCESSING_GUARANTEE_CONFIG, guarantee);
    config.put(StreamsConfig.NUM_STREAM_THREADS_CONFIG, Integer.parseInt(env("BENCH_THREADS")));
    config.put(StreamsConfig.COMMIT_INTERVAL_MS_CONFIG, Integer.parseInt(env("BENCH_COMMIT_INTERVAL_MS")));
    config.put(StreamsConfig.STATE_DIR_CONFIG, Files.createTempDirectory("bench-streams").toString());
    config.put(StreamsConfig.consumerPrefix(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG), "earliest");
    config.put(StreamsConfig.consumerPrefix(ConsumerConfig.MAX_POLL_RECORDS_CONFIG), Integer.parseInt(env("BENCH_BATCH_SIZE")));
    config.put(StreamsConfig.producerPrefix(ProducerConfig.ACKS_CONFIG), "all");
    config.put(StreamsConfig.producerPrefix(ProducerConfig.BATCH_SIZE_CONFIG), 1024 * 1024);
    config.put(StreamsConfig.producerPrefix(ProducerConfig.LINGER_MS_CONFIG), 5);

    StreamsBuilder builder = new StreamsBuilder();
    builder.stream(input, Consumed.with(Serdes.ByteArray(), Serdes.ByteArray()))
        .to(output, Produced.with(Serdes.ByteArray(), Serdes.ByteArray()));
    KafkaStreams streams = new KafkaStreams(builder.build(), config);
    AtomicLong runningSince = new AtomicLong();
    CountDownLatch running = new CountDownLatch(1);
    streams.setStateListener((now, before) -> {
      if (now == KafkaStreams.State.RUNNING && runningSince.compareAndSet(0, System.nanoTime())) running.countDown();
      if (now == KafkaStreams.State.ERROR) {
        System.err.println("Kafka Streams went into ERROR");
        Runtime.getRuntime().halt(1);
      }
    });
    streams.setUncaughtExceptionHandler(error -> {
      error.printStackTrace();
      return StreamThreadExceptionResponse.SHUTDOWN_CLIENT;
    });

    try (Admin admin = Admin.create(Map.of("bootstrap.servers", brokers))) {
      streams.start();
      running.await();
      ListOffsetsOptions uncommitted = new ListOffsetsOptions(IsolationLevel.READ_UNCOMMITTED);
      for (;;) {
        long done = exactlyOnce
            ? sum(admin.listConsumerGroupOffsets(group).partitionsToOffsetAndMetadata().get().values().stream()
                .map(OffsetAndMetadata::offset).toList())
            : sum(admin.listOffsets(latest(output, partitions), uncommitted).all().get().values().stream()
                .map(r -> r.offset()).toList());
        if (done >= total) break;
        Thread.sleep(10);
      }
    }
    double seconds = (System.nanoTime() - runningSince.get()) / 1e9;
    System.out.println("{\"messages\":" + total + ",\"seconds\":" + seconds + "}");
    streams.close(Duration.ofSeconds(10));
    System.exit(0);
  }
}
