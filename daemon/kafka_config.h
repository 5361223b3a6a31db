#pragma once
// [queue] engine = "kafka": the [queue.kafka] section, whose keys are
// librdkafka's own property names (docs/queue.md, "The Kafka engine").
// Secrets come from files: a "<property>_file" key holds the path (or
// systemd credential name) whose content is passed as <property>.
// Declared once here (config::KeySet); the schema (config_schema.cc) lists
// them and the runtime (kafka_config.cc) reads them through the same keys.

#include <map>
#include <string>

#include "base/status.h"
#include "config/config.h"

namespace crmhub::daemon {

struct KafkaQueueKeys : config::KeySet {
  using T = config::Type;
  config::Key<T::kEnum> security_protocol = Declare<T::kEnum>(
      {.name = "security.protocol",
       .description = "How the daemon talks to the brokers (librdkafka's security.protocol). "
                      "Unset: librdkafka's default, plaintext.",
       .choices = {"plaintext", "ssl", "sasl_plaintext", "sasl_ssl"}});
  config::Key<T::kEnum> sasl_mechanism =
      Declare<T::kEnum>({.name = "sasl.mechanism",
                         .description = "SASL mechanism (librdkafka's sasl.mechanism).",
                         .choices = {"PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512"}});
  config::Key<T::kString> sasl_username = Declare<T::kString>(
      {.name = "sasl.username", .description = "SASL user name (librdkafka's sasl.username)."});
  config::Key<T::kSecret> sasl_password_file = Declare<T::kSecret>(
      {.name = "sasl.password_file",
       .description = "File (or systemd credential) holding the SASL password, passed as "
                      "librdkafka's sasl.password; never logged."});
  config::Key<T::kPath> ssl_ca_location = Declare<T::kPath>(
      {.name = "ssl.ca.location",
       .description = "CA bundle the brokers' certificates are verified with (librdkafka's "
                      "ssl.ca.location). Unset: the system's store."});
  config::Key<T::kPath> ssl_certificate_location = Declare<T::kPath>(
      {.name = "ssl.certificate.location",
       .description =
           "Client certificate for mutual TLS (librdkafka's ssl.certificate.location)."});
  config::Key<T::kPath> ssl_key_location = Declare<T::kPath>(
      {.name = "ssl.key.location",
       .description = "Client private key for mutual TLS (librdkafka's ssl.key.location)."});
  config::Key<T::kSecret> ssl_key_password_file = Declare<T::kSecret>(
      {.name = "ssl.key.password_file",
       .description = "File (or systemd credential) holding the client key's password, passed "
                      "as librdkafka's ssl.key.password."});
  config::Key<T::kString> client_id = Declare<T::kString>(
      {.name = "client.id",
       .description = "Client id the brokers log and quota by (librdkafka's client.id)."});
  config::Key<T::kEnum> compression_type = Declare<T::kEnum>(
      {.name = "compression.type",
       .description = "Compression of produced batches (librdkafka's compression.type).",
       .choices = {"none", "gzip", "snappy", "lz4", "zstd"}});
  config::Key<T::kInt> session_timeout_ms = Declare<T::kInt>(
      {.name = "session.timeout.ms",
       .description =
           "How long the consumer groups wait for a daemon that went silent (killed, cut off) "
           "before its lane partitions and pull sources go to the others (librdkafka's "
           "session.timeout.ms; the brokers bound it by group.min.session.timeout.ms). Unset: "
           "librdkafka's 45000.",
       .min = 1000});
  config::Key<T::kInt> heartbeat_interval_ms = Declare<T::kInt>(
      {.name = "heartbeat.interval.ms",
       .description = "How often a daemon tells the groups it is alive (librdkafka's "
                      "heartbeat.interval.ms); keep it under a third of session.timeout.ms. "
                      "Unset: librdkafka's 3000.",
       .min = 1});
};

// The librdkafka properties [queue.kafka] sets, by librdkafka's names
// (secrets revealed: hand them to librdkafka only, never log them).
std::map<std::string, std::string> KafkaPropertiesFrom(const config::Section& section);

}  // namespace crmhub::daemon
