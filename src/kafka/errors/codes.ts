/**
 * Kafka's error codes, as the protocol defines them (org.apache.kafka.common.protocol.Errors, and
 * https://kafka.apache.org/protocol#protocol_error_codes), with what each means to Kasper. The one table every
 * path reads: the producer, fetches, transactions, the group member, outage detection and restarts.
 */
export interface KafkaErrorKind {
  code: number
  name: string
  /** Older names of the code that kafkajs still uses (e.g. NOT_LEADER_FOR_PARTITION). */
  aliases: readonly string[]
  /** Kafka's own classification (a RetriableException in the Java client): the same request may succeed later. */
  retriable: boolean
  /** Worth fresh metadata before the retry (the Java client's InvalidMetadataException): a leader moved. */
  staleMetadata: boolean
  /** The cluster is changing or short of brokers (a leader, a coordinator or replicas missing): it ends by itself. */
  outage: boolean
  /** Another producer with the same transactional id took over, or this producer's epoch is over. */
  fencing: boolean
  /** The broker lost or refused the idempotent producer's state: a new producer id, sequences from 0. */
  producerStateLost: boolean
  /** The consumer group member's generation is over: its partitions may be another member's now. */
  generationEnded: boolean
  /** No retry or restart fixes it (authorization, an unsupported setting or version): the user must act. */
  fatal: boolean
}

type Flag = Exclude<keyof KafkaErrorKind, 'code' | 'name' | 'aliases'>
type Row = readonly [code: number, name: string, flags?: readonly Flag[], aliases?: readonly string[]]

const retriable = 'retriable'
const stale = 'staleMetadata'
const outage = 'outage'
const fatal = 'fatal'

const rows = [
  [-1, 'UNKNOWN_SERVER_ERROR'],
  [0, 'NONE'],
  [1, 'OFFSET_OUT_OF_RANGE'],
  [2, 'CORRUPT_MESSAGE', [retriable]],
  [3, 'UNKNOWN_TOPIC_OR_PARTITION', [retriable, stale]],
  [4, 'INVALID_FETCH_SIZE'],
  [5, 'LEADER_NOT_AVAILABLE', [retriable, stale, outage]],
  [6, 'NOT_LEADER_OR_FOLLOWER', [retriable, stale, outage], ['NOT_LEADER_FOR_PARTITION']],
  [7, 'REQUEST_TIMED_OUT', [retriable, outage]],
  [8, 'BROKER_NOT_AVAILABLE', [retriable, outage]],
  [9, 'REPLICA_NOT_AVAILABLE', [retriable, stale, outage]],
  [10, 'MESSAGE_TOO_LARGE'],
  [11, 'STALE_CONTROLLER_EPOCH'],
  [12, 'OFFSET_METADATA_TOO_LARGE'],
  [13, 'NETWORK_EXCEPTION', [retriable, stale, outage]],
  [14, 'COORDINATOR_LOAD_IN_PROGRESS', [retriable, outage], ['GROUP_LOAD_IN_PROGRESS']],
  [15, 'COORDINATOR_NOT_AVAILABLE', [retriable, outage], ['GROUP_COORDINATOR_NOT_AVAILABLE']],
  [16, 'NOT_COORDINATOR', [retriable, outage], ['NOT_COORDINATOR_FOR_GROUP']],
  [17, 'INVALID_TOPIC_EXCEPTION'],
  [18, 'RECORD_LIST_TOO_LARGE'],
  [19, 'NOT_ENOUGH_REPLICAS', [retriable, outage]],
  [20, 'NOT_ENOUGH_REPLICAS_AFTER_APPEND', [retriable, outage]],
  [21, 'INVALID_REQUIRED_ACKS'],
  [22, 'ILLEGAL_GENERATION', ['generationEnded']],
  [23, 'INCONSISTENT_GROUP_PROTOCOL', [fatal]],
  [24, 'INVALID_GROUP_ID', [fatal]],
  [25, 'UNKNOWN_MEMBER_ID', ['generationEnded']],
  [26, 'INVALID_SESSION_TIMEOUT', [fatal]],
  [27, 'REBALANCE_IN_PROGRESS', ['generationEnded']],
  [28, 'INVALID_COMMIT_OFFSET_SIZE'],
  [29, 'TOPIC_AUTHORIZATION_FAILED', [fatal]],
  [30, 'GROUP_AUTHORIZATION_FAILED', [fatal]],
  [31, 'CLUSTER_AUTHORIZATION_FAILED', [fatal]],
  [32, 'INVALID_TIMESTAMP'],
  [33, 'UNSUPPORTED_SASL_MECHANISM', [fatal]],
  [34, 'ILLEGAL_SASL_STATE'],
  [35, 'UNSUPPORTED_VERSION', [fatal]],
  [36, 'TOPIC_ALREADY_EXISTS'],
  [37, 'INVALID_PARTITIONS'],
  [38, 'INVALID_REPLICATION_FACTOR'],
  [39, 'INVALID_REPLICA_ASSIGNMENT'],
  [40, 'INVALID_CONFIG'],
  [41, 'NOT_CONTROLLER', [retriable]],
  [42, 'INVALID_REQUEST'],
  [43, 'UNSUPPORTED_FOR_MESSAGE_FORMAT'],
  [44, 'POLICY_VIOLATION'],
  [45, 'OUT_OF_ORDER_SEQUENCE_NUMBER', ['producerStateLost']],
  [46, 'DUPLICATE_SEQUENCE_NUMBER'],
  [47, 'INVALID_PRODUCER_EPOCH', ['fencing', 'producerStateLost']],
  [48, 'INVALID_TXN_STATE'],
  [49, 'INVALID_PRODUCER_ID_MAPPING'],
  [50, 'INVALID_TRANSACTION_TIMEOUT', [fatal]],
  [51, 'CONCURRENT_TRANSACTIONS', [retriable, outage]],
  [52, 'TRANSACTION_COORDINATOR_FENCED'],
  [53, 'TRANSACTIONAL_ID_AUTHORIZATION_FAILED', [fatal]],
  [54, 'SECURITY_DISABLED'],
  [55, 'OPERATION_NOT_ATTEMPTED'],
  [56, 'KAFKA_STORAGE_ERROR', [retriable, stale, outage]],
  [57, 'LOG_DIR_NOT_FOUND'],
  [58, 'SASL_AUTHENTICATION_FAILED', [fatal]],
  [59, 'UNKNOWN_PRODUCER_ID', ['producerStateLost']],
  [60, 'REASSIGNMENT_IN_PROGRESS'],
  [61, 'DELEGATION_TOKEN_AUTH_DISABLED'],
  [62, 'DELEGATION_TOKEN_NOT_FOUND'],
  [63, 'DELEGATION_TOKEN_OWNER_MISMATCH'],
  [64, 'DELEGATION_TOKEN_REQUEST_NOT_ALLOWED'],
  [65, 'DELEGATION_TOKEN_AUTHORIZATION_FAILED'],
  [66, 'DELEGATION_TOKEN_EXPIRED'],
  [67, 'INVALID_PRINCIPAL_TYPE'],
  [68, 'NON_EMPTY_GROUP'],
  [69, 'GROUP_ID_NOT_FOUND'],
  [70, 'FETCH_SESSION_ID_NOT_FOUND', [retriable]],
  [71, 'INVALID_FETCH_SESSION_EPOCH', [retriable]],
  [72, 'LISTENER_NOT_FOUND', [retriable, stale]],
  [73, 'TOPIC_DELETION_DISABLED'],
  [74, 'FENCED_LEADER_EPOCH', [retriable, stale]],
  [75, 'UNKNOWN_LEADER_EPOCH', [retriable, stale]],
  [76, 'UNSUPPORTED_COMPRESSION_TYPE'],
  [77, 'STALE_BROKER_EPOCH'],
  [78, 'OFFSET_NOT_AVAILABLE', [retriable]],
  [79, 'MEMBER_ID_REQUIRED'],
  [80, 'PREFERRED_LEADER_NOT_AVAILABLE', [retriable, stale]],
  [81, 'GROUP_MAX_SIZE_REACHED', [fatal]],
  [82, 'FENCED_INSTANCE_ID', [fatal]],
  [83, 'ELIGIBLE_LEADERS_NOT_AVAILABLE', [retriable, stale]],
  [84, 'ELECTION_NOT_NEEDED', [retriable, stale]],
  [85, 'NO_REASSIGNMENT_IN_PROGRESS'],
  [86, 'GROUP_SUBSCRIBED_TO_TOPIC'],
  [87, 'INVALID_RECORD'],
  [88, 'UNSTABLE_OFFSET_COMMIT', [retriable]],
  [89, 'THROTTLING_QUOTA_EXCEEDED', [retriable]],
  [90, 'PRODUCER_FENCED', ['fencing', 'producerStateLost']],
  [91, 'RESOURCE_NOT_FOUND'],
  [92, 'DUPLICATE_RESOURCE'],
  [93, 'UNACCEPTABLE_CREDENTIAL'],
  [94, 'INCONSISTENT_VOTER_SET'],
  [95, 'INVALID_UPDATE_VERSION'],
  [96, 'FEATURE_UPDATE_FAILED'],
  [97, 'PRINCIPAL_DESERIALIZATION_FAILURE'],
  [98, 'SNAPSHOT_NOT_FOUND'],
  [99, 'POSITION_OUT_OF_RANGE'],
  [100, 'UNKNOWN_TOPIC_ID', [retriable, stale]],
  [101, 'DUPLICATE_BROKER_REGISTRATION'],
  [102, 'BROKER_ID_NOT_REGISTERED'],
  [103, 'INCONSISTENT_TOPIC_ID', [retriable, stale]],
  [104, 'INCONSISTENT_CLUSTER_ID'],
  [105, 'TRANSACTIONAL_ID_NOT_FOUND'],
  [106, 'FETCH_SESSION_TOPIC_ID_ERROR', [retriable]],
] as const satisfies readonly Row[]

export type KafkaErrorName = (typeof rows)[number][1]

const toKind = ([code, name, flags = [], aliases = []]: Row): KafkaErrorKind => {
  const has = (flag: Flag) => (flags as readonly Flag[]).includes(flag)
  return {
    code,
    name,
    aliases,
    retriable: has('retriable'),
    staleMetadata: has('staleMetadata'),
    outage: has('outage'),
    fencing: has('fencing'),
    producerStateLost: has('producerStateLost'),
    generationEnded: has('generationEnded'),
    fatal: has('fatal'),
  }
}

export const kafkaErrorKinds: readonly KafkaErrorKind[] = rows.map(toKind)
const byCode = new Map(kafkaErrorKinds.map((kind) => [kind.code, kind]))
const byName = new Map(kafkaErrorKinds.flatMap((kind) => [kind.name, ...kind.aliases].map((n) => [n, kind])))

/** Each code by its name, typed: errorCodes.NOT_LEADER_OR_FOLLOWER is 6. */
export const errorCodes = Object.fromEntries(rows.map(([code, name]) => [name, code])) as Record<
  KafkaErrorName,
  number
>

/** The table's row for a code; unknown codes (newer than the table) get one that is none of the kinds. */
export function kafkaErrorKind(code: number): KafkaErrorKind {
  return byCode.get(code) ?? toKind([code, `error code ${code}`])
}

/** The table's row for a name or an older alias of it, if it is Kafka's. */
export const kafkaErrorKindNamed = (name: string): KafkaErrorKind | undefined => byName.get(name)
