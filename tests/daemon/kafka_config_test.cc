// [queue] engine = "kafka": the keys the issue names (engine, brokers,
// topic_prefix) and [queue.kafka], whose keys are librdkafka's own property
// names with secrets from "<property>_file" files, read into the engine's
// options the runtime opens it with.

#include "daemon/kafka_config.h"

#include <gtest/gtest.h>

#include <fstream>

#include "config/config.h"
#include "daemon/config_schema.h"
#include "daemon/runtime_build.h"
#include "tests/daemon/test_support.h"

namespace crmhub::daemon {
namespace {

class KafkaConfigTest : public ::testing::Test {
 protected:
  Result<config::Config> Load(const std::string& toml) {
    const auto file = dir_.path() / "crmhub.toml";
    std::ofstream(file) << toml;
    return config::LoadConfig(file, BuildSchema({}));
  }
  testutil::TempDir dir_;
};

TEST_F(KafkaConfigTest, KafkaKeysBecomeEngineOptionsAndLibrdkafkaProperties) {
  { std::ofstream(dir_.path() / "sasl.pass") << "s3cret"; }
  auto config = Load(R"(
[queue]
engine = "kafka"
brokers = "k1:9092,k2:9092"
topic_prefix = "acme"
max_attempts = 7

[queue.lanes.out-crm]
max_attempts = 3

[queue.kafka]
"security.protocol" = "sasl_ssl"
"sasl.mechanism" = "SCRAM-SHA-512"
"sasl.username" = "crmhub"
"sasl.password_file" = "./sasl.pass"
"client.id" = "crmhub-1"
)");
  ASSERT_TRUE(config.ok()) << config.status().ToString();
  EXPECT_EQ(config->Get("queue").GetString("engine"), "kafka");
  auto options = KafkaQueueOptionsFrom(*config);
  ASSERT_TRUE(options.ok()) << options.status().ToString();
  EXPECT_EQ(options->brokers, "k1:9092,k2:9092");
  EXPECT_EQ(options->topic_prefix, "acme");
  EXPECT_EQ(options->group_id, "acme");
  EXPECT_EQ(options->default_policy.max_attempts, 7);
  EXPECT_EQ(options->lane_policies.at("out-crm").max_attempts, 3);
  EXPECT_EQ(options->properties,
            (std::map<std::string, std::string>{{"security.protocol", "sasl_ssl"},
                                                {"sasl.mechanism", "SCRAM-SHA-512"},
                                                {"sasl.username", "crmhub"},
                                                {"sasl.password", "s3cret"},
                                                {"client.id", "crmhub-1"}}))
      << "the _file key is passed as the property, with the file's content";
}

TEST_F(KafkaConfigTest, DefaultsAndMistakesAreClear) {
  auto defaults = Load("[queue]\n");
  ASSERT_TRUE(defaults.ok()) << defaults.status().ToString();
  EXPECT_EQ(defaults->Get("queue").GetString("engine"), "sqlite");
  EXPECT_EQ(defaults->Get("queue").GetString("topic_prefix"), "crmhub");
  EXPECT_TRUE(KafkaPropertiesFrom(defaults->Get("queue.kafka")).empty());

  auto no_brokers = Load("[queue]\nengine = \"kafka\"\n");
  ASSERT_TRUE(no_brokers.ok());
  auto options = KafkaQueueOptionsFrom(*no_brokers);
  EXPECT_EQ(options.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(options.status().message().find("brokers"), std::string::npos);

  auto unknown = Load("[queue.kafka]\n\"sasl.password\" = \"inline\"\n");
  ASSERT_FALSE(unknown.ok()) << "a secret is never written inline";
  EXPECT_NE(unknown.status().message().find("unknown key \"sasl.password\""), std::string::npos)
      << unknown.status().message();

  EXPECT_TRUE(KafkaQueueOptionsFrom(*Load("[queue]\nengine = \"kafka\"\nbrokers = \"k:1\"\n"))
                  ->retry_tiers.empty())
      << "no tiers unless asked for";
  auto tiers = Load(
      "[queue]\nengine = \"kafka\"\nbrokers = \"k:1\"\nretry_tiers = [\"1m\", \"10m\", \"1h\"]\n");
  ASSERT_TRUE(tiers.ok()) << tiers.status().ToString();
  auto tiered = KafkaQueueOptionsFrom(*tiers);
  ASSERT_TRUE(tiered.ok()) << tiered.status().ToString();
  EXPECT_EQ(tiered->retry_tiers,
            (std::vector<std::chrono::milliseconds>{
                std::chrono::minutes(1), std::chrono::minutes(10), std::chrono::hours(1)}));
  for (const char* bad : {"[\"10m\", \"1m\"]", "[\"soon\"]", "[\"0s\"]"}) {
    auto loaded = Load(
        std::string("[queue]\nengine = \"kafka\"\nbrokers = \"k:1\"\nretry_tiers = ") + bad + "\n");
    ASSERT_TRUE(loaded.ok()) << loaded.status().ToString();
    auto refused = KafkaQueueOptionsFrom(*loaded);
    EXPECT_EQ(refused.status().code(), StatusCode::kInvalidArgument) << bad;
    EXPECT_NE(refused.status().message().find("retry_tiers"), std::string::npos)
        << refused.status().message();
  }

  auto bad_choice = Load("[queue.kafka]\n\"security.protocol\" = \"tls\"\n");
  EXPECT_FALSE(bad_choice.ok());
  auto bad_engine = Load("[queue]\nengine = \"redis\"\n");
  EXPECT_FALSE(bad_engine.ok());
}

}  // namespace
}  // namespace crmhub::daemon
