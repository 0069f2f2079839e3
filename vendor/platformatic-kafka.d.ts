// vendor/platformatic-kafka.js is @platformatic/kafka bundled by scripts/bundle/kafka-library.ts: its types are the package's.
export * from '@platformatic/kafka'
