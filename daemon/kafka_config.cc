#include "daemon/kafka_config.h"

namespace crmhub::daemon {

std::map<std::string, std::string> KafkaPropertiesFrom(const config::Section& section) {
  const KafkaQueueKeys keys;
  std::map<std::string, std::string> props;
  auto put = [&](const auto& key) {
    if (key.IsSet(section)) props[key.name()] = key.Get(section);
  };
  put(keys.security_protocol);
  put(keys.sasl_mechanism);
  put(keys.sasl_username);
  put(keys.client_id);
  put(keys.compression_type);
  auto put_int = [&](const auto& key) {
    if (key.IsSet(section)) props[key.name()] = std::to_string(key.Get(section));
  };
  put_int(keys.session_timeout_ms);
  put_int(keys.heartbeat_interval_ms);
  auto put_path = [&](const auto& key) {
    if (key.IsSet(section)) props[key.name()] = key.Get(section).string();
  };
  put_path(keys.ssl_ca_location);
  put_path(keys.ssl_certificate_location);
  put_path(keys.ssl_key_location);
  // "<property>_file" -> <property>, the file's content.
  auto put_secret = [&](const auto& key) {
    if (!key.IsSet(section)) return;
    std::string name = key.name();
    name.resize(name.size() - std::string("_file").size());
    props[name] = key.Get(section).Reveal();
  };
  put_secret(keys.sasl_password_file);
  put_secret(keys.ssl_key_password_file);
  return props;
}

}  // namespace crmhub::daemon
