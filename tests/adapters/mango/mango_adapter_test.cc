// The Mango Office adapter on the contract's samples: the sign vector, what
// each path queues and keys, every refusal (counted by rule, logged without
// the secret), type confusion inside the json field, the factory's keys and
// defaults, and config/mappings/mango-calls.toml on what the adapter queues.

#include "adapters/mango/mango_adapter.h"

#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include <nlohmann/json.hpp>

#include "config/config.h"
#include "mapping/model/model.h"
#include "mapping/rules/rule_set.h"
#include "net/api_client.h"

namespace crmhub::adapters::mango {
namespace {

using nlohmann::json;

std::string ReadContract(const std::string& name) {
  std::ifstream in(std::string(CRMHUB_CONTRACTS_DIR) + "/telephony/mango/" + name);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

// The contract's documented example, compacted as Mango would send it.
std::string Sample(const std::string& name) { return json::parse(ReadContract(name)).dump(); }

const json kVector = json::parse(ReadContract("sign_test_vector.COMPUTED.json"));
const std::string kKey = kVector["vpbx_api_key"].get<std::string>();
const std::string kSalt = kVector["vpbx_api_salt"].get<std::string>();

std::string Form(std::string_view api_key, std::string_view sign, std::string_view event) {
  return "vpbx_api_key=" + net::UrlEncode(api_key) + "&sign=" + net::UrlEncode(sign) +
         "&json=" + net::UrlEncode(event);
}

net::HttpRequest Post(std::string_view sub_path, std::string body,
                      std::string from = "81.88.80.132") {
  net::HttpRequest r;
  r.method = "POST";
  r.target = r.path = "/hooks/mango-main/" + std::string(sub_path);
  r.body = std::move(body);
  r.remote_address = std::move(from);
  r.headers.Set("Content-Type", "application/x-www-form-urlencoded");
  return r;
}

net::HttpRequest Signed(std::string_view sub_path, const std::string& event) {
  return Post(sub_path, Form(kKey, MangoSign(kKey, event, kSalt), event));
}

class MangoAdapterTest : public ::testing::Test {
 protected:
  MangoAdapterTest() : adapter_(Config(), &metrics_) {}
  static MangoConfig Config() {
    MangoConfig c;
    c.id = "mango-main";
    c.account_key = Secret(kKey);
    c.signing_key = Secret(kSalt);
    c.allow_ips = *net::CidrList::Parse(PublishedSenders());
    return c;
  }
  double Refusals(const std::string& rule) {
    return metrics_
        .GetCounter("crmhub_webhook_refusals_total", "",
                    {{"adapter", "mango-main"}, {"rule", rule}})
        .value();
  }
  MetricsRegistry metrics_;
  MangoAdapter adapter_;
};

// The README's COMPUTED vector: sha256(key + json + salt), lowercase hex.
TEST(MangoSign, ContractVector) {
  EXPECT_EQ(MangoSign(kKey, kVector["json"].get<std::string>(), kSalt),
            kVector["sign"].get<std::string>());
}

TEST_F(MangoAdapterTest, ServesTheThreeEventPathsOnly) {
  for (const char* p : {"events/call", "events/summary", "events/recording"}) {
    EXPECT_TRUE(adapter_.ServesPath(p)) << p;
  }
  for (const char* p : {"", "events", "events/sms", "events/call/x"}) {
    EXPECT_FALSE(adapter_.ServesPath(p)) << p;
  }
  EXPECT_TRUE(adapter_.ServesMethod("POST"));
  EXPECT_FALSE(adapter_.ServesMethod("GET"));
}

// The vector's own form, byte for byte as the README gives it.
TEST_F(MangoAdapterTest, AcceptsTheVectorsForm) {
  const std::string event = kVector["json"].get<std::string>();
  auto r = adapter_.HandleWebhook(
      Post("events/call", Form(kKey, kVector["sign"].get<std::string>(), event)));
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  ASSERT_EQ(r->events.size(), 1u);
  EXPECT_EQ(r->events[0].idempotency_key, "call:232wc3e3w3s222:100:500:256:1");
  EXPECT_EQ(r->events[0].ordering_key, "232wc3e3w3s222");
  EXPECT_EQ(r->events[0].kind, "call_leg");
  EXPECT_EQ(r->events[0].payload, event);  // the json as sent
  EXPECT_EQ(r->accepted.status, 200);
}

TEST_F(MangoAdapterTest, KeysEachPathAsTheReadmeSays) {
  struct Case {
    const char* path;
    const char* file;
    const char* key;
    const char* kind;
  };
  for (const Case& c : {
           Case{"events/call", "events_call_seq2_connected_doc_p328.json", "", "call_leg"},
           Case{"events/summary", "events_summary_ex1_incoming_answered_doc_3.1.6.json",
                "summary:232wc3e3w3s222", "call_summary"},
           Case{"events/recording", "events_recording_ex1_started_doc_3.1.4.json",
                "recording:r100:777:500:256:Started", "call_recording"},
       }) {
    const std::string event = Sample(c.file);
    auto r = adapter_.HandleWebhook(Signed(c.path, event));
    ASSERT_TRUE(r.ok()) << c.file << ": " << r.status().ToString();
    // An answered call's summary also queues what closes the caller's
    // missed-call task (kit/missed_call.h).
    ASSERT_EQ(r->events.size(), c.kind == std::string("call_summary") ? 2u : 1u);
    if (r->events.size() == 2) {
      EXPECT_EQ(r->events[1].kind, "missed_call_closed");
    }
    if (*c.key) {
      EXPECT_EQ(r->events[0].idempotency_key, c.key) << c.file;
    }
    EXPECT_EQ(r->events[0].kind, c.kind);
    EXPECT_EQ(r->events[0].payload, event);
  }
}

// Legs of one call: each seq its own event; a redelivery the same key (the
// queue's dedup by key makes it a duplicate, answered and not stored).
TEST_F(MangoAdapterTest, SeqOrdersLegsAndAReplayHasTheSameKey) {
  std::vector<std::string> keys;
  for (const char* f :
       {"events_call_seq1_appeared_doc_p328.json", "events_call_seq2_connected_doc_p328.json",
        "events_call_seq3_disconnected_doc_p328.json"}) {
    auto r = adapter_.HandleWebhook(Signed("events/call", Sample(f)));
    ASSERT_TRUE(r.ok()) << f << ": " << r.status().ToString();
    keys.push_back(r->events[0].idempotency_key);
  }
  EXPECT_NE(keys[0], keys[1]);
  EXPECT_NE(keys[1], keys[2]);
  auto replay = adapter_.HandleWebhook(
      Signed("events/call", Sample("events_call_seq2_connected_doc_p328.json")));
  ASSERT_TRUE(replay.ok());
  EXPECT_EQ(replay->events[0].idempotency_key, keys[1]);
  // A seq written as a number is the same seq.
  json numeric = json::parse(Sample("events_call_seq2_connected_doc_p328.json"));
  const std::string seq_text =
      numeric["seq"].is_string() ? numeric["seq"].get<std::string>() : numeric["seq"].dump();
  numeric["seq"] = std::stoll(seq_text);
  auto as_number = adapter_.HandleWebhook(Signed("events/call", numeric.dump()));
  ASSERT_TRUE(as_number.ok());
  EXPECT_EQ(as_number->events[0].idempotency_key, keys[1]);
}

TEST_F(MangoAdapterTest, RefusesAWrongSignCountedAndNothingQueued) {
  const std::string event = Sample("events_summary_ex1_incoming_answered_doc_3.1.6.json");
  std::string sign = MangoSign(kKey, event, kSalt);
  sign[0] = sign[0] == '0' ? '1' : '0';
  auto r = adapter_.HandleWebhook(Post("events/summary", Form(kKey, sign, event)));
  EXPECT_EQ(r.status().code(), StatusCode::kUnauthenticated);
  auto missing = adapter_.HandleWebhook(
      Post("events/summary", "vpbx_api_key=" + kKey + "&json=" + net::UrlEncode(event)));
  EXPECT_EQ(missing.status().code(), StatusCode::kUnauthenticated);
  // Signed with another salt.
  auto other = adapter_.HandleWebhook(
      Post("events/summary", Form(kKey, MangoSign(kKey, event, "another-salt"), event)));
  EXPECT_EQ(other.status().code(), StatusCode::kUnauthenticated);
  EXPECT_EQ(Refusals("signature"), 3);
  // The message names the rule, never the salt, the key or the sign.
  EXPECT_EQ(r.status().message().find(kSalt), std::string::npos);
  EXPECT_EQ(r.status().message().find(kKey), std::string::npos);
  EXPECT_EQ(r.status().message().find(sign), std::string::npos);
}

// The sign of one json over another: a changed member fails.
TEST_F(MangoAdapterTest, RefusesATamperedJson) {
  const std::string event = Sample("events_summary_ex4_outgoing_missed_doc_3.1.6.json");
  const std::string sign = MangoSign(kKey, event, kSalt);
  json tampered = json::parse(event);
  tampered["entry_result"] = 1;
  auto r = adapter_.HandleWebhook(Post("events/summary", Form(kKey, sign, tampered.dump())));
  EXPECT_EQ(r.status().code(), StatusCode::kUnauthenticated);
  // Re-serialised with other spacing is another text too: Mango signs bytes.
  auto spaced =
      adapter_.HandleWebhook(Post("events/summary", Form(kKey, sign, json::parse(event).dump(1))));
  EXPECT_EQ(spaced.status().code(), StatusCode::kUnauthenticated);
  EXPECT_EQ(Refusals("signature"), 2);
}

// Another VPBX's key, even with its own valid sign, is not ours.
TEST_F(MangoAdapterTest, RefusesAnUnknownApiKey) {
  const std::string event = Sample("events_summary_ex1_incoming_answered_doc_3.1.6.json");
  auto r = adapter_.HandleWebhook(
      Post("events/summary", Form("someone-else", MangoSign("someone-else", event, kSalt), event)));
  EXPECT_EQ(r.status().code(), StatusCode::kUnauthenticated);
  auto none = adapter_.HandleWebhook(Post("events/summary", "json=" + net::UrlEncode(event)));
  EXPECT_EQ(none.status().code(), StatusCode::kUnauthenticated);
  EXPECT_EQ(Refusals("api_key"), 2);
  EXPECT_EQ(Refusals("signature"), 0);
}

TEST_F(MangoAdapterTest, RefusesASenderOutsideThePublishedAddresses) {
  const std::string event = Sample("events_summary_ex1_incoming_answered_doc_3.1.6.json");
  net::HttpRequest r = Signed("events/summary", event);
  r.remote_address = "81.88.80.134";
  EXPECT_EQ(adapter_.HandleWebhook(r).status().code(), StatusCode::kPermissionDenied);
  r.remote_address = "127.0.0.1";
  EXPECT_EQ(adapter_.HandleWebhook(r).status().code(), StatusCode::kPermissionDenied);
  EXPECT_EQ(Refusals("sender"), 2);
  for (const std::string& ip : PublishedSenders()) {
    r.remote_address = ip;
    EXPECT_TRUE(adapter_.HandleWebhook(r).ok()) << ip;
  }
  r.remote_address = "::ffff:81.88.82.45";  // a dual-stack listener's view
  EXPECT_TRUE(adapter_.HandleWebhook(r).ok());
}

// Signed, so from Mango, but not what the documentation describes: a clear
// 400 naming the member, counted under "body", never a crash or a queued
// event without a key.
TEST_F(MangoAdapterTest, TypeConfusionInTheJsonField) {
  const json summary = json::parse(Sample("events_summary_ex1_incoming_answered_doc_3.1.6.json"));
  const json leg = json::parse(Sample("events_call_seq1_appeared_doc_p328.json"));
  struct Case {
    const char* path;
    json event;
    const char* names;  // what the message names ("" for not-an-object)
  };
  std::vector<Case> cases;
  auto with = [](json e, const char* member, json value) {
    e[member] = std::move(value);
    return e;
  };
  cases.push_back({"events/summary", with(summary, "entry_id", nullptr), "entry_id"});
  cases.push_back({"events/summary", with(summary, "entry_id", json::array({"a"})), "entry_id"});
  cases.push_back(
      {"events/summary", with(summary, "entry_id", json::object({{"id", "a"}})), "entry_id"});
  cases.push_back({"events/summary", with(summary, "entry_id", ""), "entry_id"});
  cases.push_back({"events/summary", with(summary, "entry_id", std::string(129, 'x')), "entry_id"});
  cases.push_back({"events/summary", with(summary, "entry_id", 1.5), "entry_id"});
  cases.push_back({"events/call", with(leg, "seq", "1e3"), "seq"});
  cases.push_back({"events/call", with(leg, "seq", json::array()), "seq"});
  cases.push_back({"events/call", with(leg, "seq", 18446744073709551615ull), "seq"});
  cases.push_back({"events/call", with(leg, "seq", "99999999999999999999999"), "seq"});
  cases.push_back({"events/call", with(leg, "call_id", true), "call_id"});
  json no_entry = summary;
  no_entry.erase("entry_id");
  cases.push_back({"events/summary", no_entry, "entry_id"});
  cases.push_back({"events/summary", json::array({summary}), ""});
  cases.push_back({"events/summary", "just text", ""});
  cases.push_back({"events/summary", nullptr, ""});
  for (const Case& c : cases) {
    auto r = adapter_.HandleWebhook(Signed(c.path, c.event.dump()));
    EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument) << c.event.dump();
    EXPECT_NE(r.status().message().find(c.names), std::string::npos) << r.status().message();
  }
  // Deep nesting, a number beyond any type, text that is not JSON.
  std::string deep =
      "{\"entry_id\":\"e\",\"x\":" + std::string(5000, '[') + std::string(5000, ']') + "}";
  for (const std::string& raw :
       {deep, std::string("{\"entry_id\":1e999999}"), std::string("{\"entry_id\":\"e\"")}) {
    auto r = adapter_.HandleWebhook(Signed("events/summary", raw));
    EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument) << raw.substr(0, 40);
  }
  // An empty json is no signed field at all.
  EXPECT_EQ(adapter_.HandleWebhook(Signed("events/summary", "")).status().code(),
            StatusCode::kUnauthenticated);
  // Numbers for strings are read as their text; extra members are kept.
  json numeric = with(summary, "entry_id", 12345);
  numeric["unknown_member"] = json::object({{"nested", json::array({1, 2})}});
  auto ok = adapter_.HandleWebhook(Signed("events/summary", numeric.dump()));
  ASSERT_TRUE(ok.ok()) << ok.status().ToString();
  EXPECT_EQ(ok->events[0].idempotency_key, "summary:12345");
  // Not a form at all.
  auto bad_form = adapter_.HandleWebhook(Post("events/summary", "json=%zz"));
  EXPECT_EQ(bad_form.status().code(), StatusCode::kInvalidArgument);
  EXPECT_GE(Refusals("body"), cases.size() + 3);
}

class MangoFactory : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string tmpl = (std::filesystem::temp_directory_path() / "crmhub-mango-XXXXXX").string();
    ASSERT_NE(mkdtemp(tmpl.data()), nullptr);
    dir_ = tmpl;
    std::ofstream(dir_ / "key") << kKey << "\n";
    std::ofstream(dir_ / "salt") << kSalt << "\n";
    std::ofstream(dir_ / "empty") << "";
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  Result<std::unique_ptr<Adapter>> Build(const std::string& keys) {
    std::ofstream(dir_ / "crmhub.toml", std::ios::trunc)
        << "[adapters.mango-main]\ntype = \"mango\"\n"
        << keys;
    config::Schema schema;
    schema.adapter_types.push_back(Type().schema);
    auto cfg = config::LoadConfig(dir_ / "crmhub.toml", schema);
    if (!cfg.ok()) return cfg.status();
    return Type().factory(cfg->Adapters()[0], AdapterContext{});
  }
  std::string Secrets() const {
    return "api_key_file = \"" + (dir_ / "key").string() + "\"\napi_salt_file = \"" +
           (dir_ / "salt").string() + "\"\n";
  }
  std::filesystem::path dir_;
};

TEST_F(MangoFactory, BuildsWithThePublishedSendersByDefault) {
  auto adapter = Build(Secrets());
  ASSERT_TRUE(adapter.ok()) << adapter.status().ToString();
  WebhookCapability* hook = (*adapter)->webhook();
  ASSERT_NE(hook, nullptr);
  net::HttpRequest r =
      Signed("events/summary", Sample("events_summary_ex1_incoming_answered_doc_3.1.6.json"));
  EXPECT_TRUE(hook->HandleWebhook(r).ok());  // the key file's newline is not part of the key
  r.remote_address = "10.0.0.1";
  EXPECT_EQ(hook->HandleWebhook(r).status().code(), StatusCode::kPermissionDenied);

  auto open = Build(Secrets() + "allow_ips = []\n");
  ASSERT_TRUE(open.ok());
  EXPECT_TRUE((*open)->webhook()->HandleWebhook(r).ok());
}

TEST_F(MangoFactory, ConfigErrorsNameTheKey) {
  EXPECT_NE(Build("api_key_file = \"" + (dir_ / "key").string() + "\"\n")
                .status()
                .message()
                .find("api_salt_file"),
            std::string::npos);
  auto empty = Build("api_key_file = \"" + (dir_ / "empty").string() + "\"\napi_salt_file = \"" +
                     (dir_ / "salt").string() + "\"\n");
  EXPECT_NE(empty.status().message().find("api_key_file"), std::string::npos);
  auto bad_ip = Build(Secrets() + "allow_ips = [\"not-an-address\"]\n");
  EXPECT_NE(bad_ip.status().message().find("allow_ips"), std::string::npos);
}

// What the adapter queues, through the shipped rules: a summary is a call,
// a leg or a recording makes nothing (no entity, no error).
TEST(MangoMapping, SummariesAreCallsLegsAndRecordingsMakeNothing) {
  auto rules =
      mapping::LoadRules(std::string(CRMHUB_SOURCE_DIR) + "/config/mappings/mango-calls.toml");
  ASSERT_TRUE(rules.ok()) << rules.status().ToString();
  auto call = rules->ApplyText(Sample("events_summary_ex4_outgoing_missed_doc_3.1.6.json"),
                               {.source = "mango-main", .received_ms = 1});
  ASSERT_TRUE(call.ok()) << call.status().ToString();
  ASSERT_EQ(call->size(), 1u);
  EXPECT_EQ((*call)[0].kind, model::EntityKind::kCall);
  // An incoming missed call: the call, the caller as contact and lead, and
  // through the adapter the task to call back.
  json missed = json::parse(Sample("events_summary_ex1_incoming_answered_doc_3.1.6.json"));
  missed["entry_result"] = 0;
  missed["talk_time"] = 0;
  missed["from"]["number"] = "79161234567";
  MangoConfig config;
  config.id = "mango-main";
  config.account_key = Secret(kKey);
  config.signing_key = Secret(kSalt);
  MangoAdapter adapter(std::move(config), nullptr);
  auto queued = adapter.HandleWebhook(Signed("events/summary", missed.dump()));
  ASSERT_TRUE(queued.ok()) << queued.status().ToString();
  ASSERT_EQ(queued->events.size(), 2u);
  auto entities =
      rules->ApplyText(queued->events[0].payload, {.source = "mango-main", .received_ms = 1});
  ASSERT_TRUE(entities.ok()) << entities.status().ToString();
  ASSERT_EQ(entities->size(), 3u);
  EXPECT_EQ(model::ToJson((*entities)[0])["fields"]["result"], "missed");
  EXPECT_EQ((*entities)[1].kind, model::EntityKind::kContact);
  EXPECT_EQ(model::ToJson((*entities)[1])["fields"]["phone"], "+79161234567");
  EXPECT_EQ((*entities)[2].kind, model::EntityKind::kLead);
  auto task =
      rules->ApplyText(queued->events[1].payload, {.source = "mango-main", .received_ms = 1});
  ASSERT_TRUE(task.ok()) << task.status().ToString();
  ASSERT_EQ(task->size(), 1u);
  const json t = model::ToJson((*task)[0]);
  EXPECT_EQ(t["kind"], "task");
  // Keyed by the number in E.164, as a later call's closure finds it.
  EXPECT_EQ(t["external_id"], "+79161234567:" + std::to_string(1399906990 - 1399906990 % 86400));
  EXPECT_EQ(t["fields"]["assignee"], "123");
  EXPECT_EQ(t["fields"]["due_ms"], (int64_t{1399906990} + 3600) * 1000);
  EXPECT_EQ(t["fields"]["related_external_id"], "232wc3e3w3s222");
  for (const char* f :
       {"events_call_seq1_appeared_doc_p328.json", "events_call_disconnected_doc_3.1.2.json",
        "events_recording_ex1_started_doc_3.1.4.json"}) {
    auto skipped = rules->ApplyText(Sample(f), {.source = "mango-main", .received_ms = 1});
    ASSERT_TRUE(skipped.ok()) << f << ": " << skipped.status().ToString();
    EXPECT_TRUE(skipped->empty()) << f;
  }
}

}  // namespace
}  // namespace crmhub::adapters::mango
