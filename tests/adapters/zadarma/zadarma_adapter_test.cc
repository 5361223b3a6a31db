// The Zadarma adapter on the contract's COMPUTED vectors (the official SDKs'
// algorithm): the Signature per event, the zd_echo URL check, what each
// event queues and keys, every refusal (counted by rule, logged without the
// secret), type confusion in the form, the factory's keys and defaults, and
// config/mappings/zadarma-calls.toml on what the adapter queues.

#include "adapters/zadarma/zadarma_adapter.h"

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
#include "net/hmac.h"

namespace crmhub::adapters::zadarma {
namespace {

using nlohmann::json;

json ReadVectors() {
  std::ifstream in(std::string(CRMHUB_CONTRACTS_DIR) +
                   "/telephony/zadarma/webhook_signature_vectors.COMPUTED.json");
  std::stringstream s;
  s << in.rdbuf();
  return json::parse(s.str());
}

const json kVectors = ReadVectors();
const std::string kSecret = kVectors["secret"].get<std::string>();

std::string Form(const json& fields) {
  std::string out;
  for (const auto& [name, value] : fields.items()) {
    if (!out.empty()) out += '&';
    out += net::UrlEncode(name) + "=" + net::UrlEncode(value.get<std::string>());
  }
  return out;
}

// The SDK's computation, written here from the README: base64 of the
// lower-case hex HMAC-SHA1 of the concatenation.
std::string Sign(std::string_view message, std::string_view secret = kSecret) {
  return net::Base64Encode(net::HmacHex(net::HmacAlgorithm::kSha1, secret, message));
}

net::HttpRequest Post(const json& fields, std::optional<std::string> signature,
                      std::string from = "185.45.152.42") {
  net::HttpRequest r;
  r.method = "POST";
  r.target = r.path = "/hooks/zd";
  r.body = Form(fields);
  r.remote_address = std::move(from);
  r.headers.Set("Content-Type", "application/x-www-form-urlencoded");
  if (signature) r.headers.Set("Signature", *signature);
  return r;
}

net::HttpRequest Get(std::string query, std::string from = "185.45.152.42") {
  net::HttpRequest r;
  r.method = "GET";
  r.path = "/hooks/zd";
  r.query = std::move(query);
  r.target = r.path + "?" + r.query;
  r.remote_address = std::move(from);
  return r;
}

// The vector cases, each with its documented Signature header.
const json& Case(size_t i) { return kVectors["cases"][i]; }
net::HttpRequest VectorPost(size_t i) {
  return Post(Case(i)["post_fields"], Case(i)["Signature_header"].get<std::string>());
}

class ZadarmaAdapterTest : public ::testing::Test {
 protected:
  ZadarmaAdapterTest() : adapter_(Config(), &metrics_) {}
  static ZadarmaConfig Config() {
    ZadarmaConfig c;
    c.id = "zd";
    c.account_key = Secret("key");
    c.signing_key = Secret(kSecret);
    c.allow_ips = *net::CidrList::Parse(PublishedSenders());
    return c;
  }
  double Refusals(const std::string& rule) {
    return metrics_
        .GetCounter("crmhub_webhook_refusals_total", "", {{"adapter", "zd"}, {"rule", rule}})
        .value();
  }
  MetricsRegistry metrics_;
  ZadarmaAdapter adapter_;
};

// Our reading of the formula gives the vectors (a test of the test).
TEST(ZadarmaSignature, VectorsAreBase64OfTheHexDigest) {
  for (const json& c : kVectors["cases"]) {
    const std::string message = c["signature_string"].get<std::string>();
    EXPECT_EQ(json(net::HmacHex(net::HmacAlgorithm::kSha1, kSecret, message)), c["hmac_sha1_hex"]);
    EXPECT_EQ(json(Sign(message)), c["Signature_header"]);
  }
}

TEST_F(ZadarmaAdapterTest, AcceptsEveryVector) {
  const char* keys[] = {"start:in_0123456789abcdef", "end:in_0123456789abcdef",
                        "out_start:out_fedcba9876543210", "record:1710502200.123456"};
  const char* kinds[] = {"zadarma_start", "zadarma_end", "zadarma_out_start", "zadarma_record"};
  for (size_t i = 0; i < kVectors["cases"].size(); ++i) {
    auto r = adapter_.HandleWebhook(VectorPost(i));
    ASSERT_TRUE(r.ok()) << i << ": " << r.status().ToString();
    // An answered NOTIFY_END also queues what closes the caller's
    // missed-call task (kit/missed_call.h).
    const bool answered_end = Case(i)["post_fields"].value("event", "") == "NOTIFY_END" &&
                              Case(i)["post_fields"].value("disposition", "") == "answered";
    ASSERT_EQ(r->events.size(), answered_end ? 2u : 1u) << i;
    if (answered_end) {
      EXPECT_EQ(r->events[1].kind, "missed_call_closed");
    }
    EXPECT_EQ(r->events[0].idempotency_key, keys[i]);
    EXPECT_EQ(r->events[0].kind, kinds[i]);
    EXPECT_EQ(json(r->events[0].ordering_key), Case(i)["post_fields"]["pbx_call_id"]);
    EXPECT_EQ(json::parse(r->events[0].payload), Case(i)["post_fields"]);
    EXPECT_EQ(r->accepted.status, 200);
  }
}

// The events the vectors do not cover, signed as the SDK's classes say.
TEST_F(ZadarmaAdapterTest, InternalAnswerAndOutEndAreSignedByTheirOwnFields) {
  const json internal = {{"event", "NOTIFY_INTERNAL"},  {"call_start", "2024-03-15 14:30:00"},
                         {"pbx_call_id", "in_1"},       {"caller_id", "+74951234567"},
                         {"called_did", "74957654321"}, {"internal", "101"}};
  const json answer = {{"event", "NOTIFY_ANSWER"}, {"call_start", "2024-03-15 14:30:00"},
                       {"pbx_call_id", "in_1"},    {"caller_id", "+74951234567"},
                       {"destination", "101"},     {"internal", "101"}};
  const json out_end = {{"event", "NOTIFY_OUT_END"},    {"call_start", "2024-03-15 15:00:00"},
                        {"pbx_call_id", "out_1"},       {"internal", "100"},
                        {"destination", "74951112233"}, {"duration", "0"},
                        {"disposition", "no answer"},   {"status_code", "19"},
                        {"is_recorded", "0"},           {"call_id_with_rec", ""}};
  auto i = adapter_.HandleWebhook(Post(internal, Sign("+7495123456774957654321"
                                                      "2024-03-15 14:30:00")));
  ASSERT_TRUE(i.ok()) << i.status().ToString();
  EXPECT_EQ(i->events[0].idempotency_key, "internal:in_1:101");
  auto a = adapter_.HandleWebhook(Post(answer, Sign("+74951234567101"
                                                    "2024-03-15 14:30:00")));
  ASSERT_TRUE(a.ok()) << a.status().ToString();
  EXPECT_EQ(a->events[0].idempotency_key, "answer:in_1:101");
  auto e = adapter_.HandleWebhook(Post(out_end, Sign("10074951112233"
                                                     "2024-03-15 15:00:00")));
  ASSERT_TRUE(e.ok()) << e.status().ToString();
  EXPECT_EQ(e->events[0].idempotency_key, "out_end:out_1");
  // A signed field sent empty is concatenated as empty text, as PHP does.
  json no_did = internal;
  no_did["called_did"] = "";
  auto empty = adapter_.HandleWebhook(Post(no_did, Sign("+74951234567"
                                                        "2024-03-15 14:30:00")));
  EXPECT_TRUE(empty.ok()) << empty.status().ToString();
}

TEST_F(ZadarmaAdapterTest, AReplayHasTheSameKey) {
  auto first = adapter_.HandleWebhook(VectorPost(1));
  auto again = adapter_.HandleWebhook(VectorPost(1));
  ASSERT_TRUE(first.ok() && again.ok());
  EXPECT_EQ(first->events[0].idempotency_key, again->events[0].idempotency_key);
}

TEST_F(ZadarmaAdapterTest, AnswersTheUrlCheck) {
  EXPECT_TRUE(adapter_.ServesMethod("GET"));
  EXPECT_TRUE(adapter_.ServesMethod("POST"));
  EXPECT_FALSE(adapter_.ServesMethod("PUT"));
  auto r = adapter_.HandleWebhook(Get("zd_echo=a1B2-c_3"));
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_TRUE(r->events.empty());
  EXPECT_EQ(r->accepted.status, 200);
  EXPECT_EQ(r->accepted.body, "a1B2-c_3");
  for (const char* bad : {"", "zd_echo=", "x=1", "zd_echo=%3Cscript%3E", "zd_echo=a%20b"}) {
    EXPECT_EQ(adapter_.HandleWebhook(Get(bad)).status().code(), StatusCode::kInvalidArgument)
        << bad;
  }
  EXPECT_EQ(adapter_.HandleWebhook(Get("zd_echo=" + std::string(129, 'a'))).status().code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(adapter_.HandleWebhook(Get("zd_echo=abc", "10.0.0.1")).status().code(),
            StatusCode::kPermissionDenied);
}

TEST_F(ZadarmaAdapterTest, RefusesAWrongSignature) {
  net::HttpRequest r = VectorPost(0);
  r.headers.Set("Signature", Sign(Case(0)["signature_string"].get<std::string>(), "other-secret"));
  EXPECT_EQ(adapter_.HandleWebhook(r).status().code(), StatusCode::kUnauthenticated);
  // The raw digest in base64 (what the OpenAPI text suggests) is not it.
  r.headers.Set("Signature",
                net::Base64Encode(net::Hmac(net::HmacAlgorithm::kSha1, kSecret,
                                            Case(0)["signature_string"].get<std::string>())));
  EXPECT_EQ(adapter_.HandleWebhook(r).status().code(), StatusCode::kUnauthenticated);
  // The hex digest itself, not base64'd.
  r.headers.Set("Signature", Case(0)["hmac_sha1_hex"].get<std::string>());
  EXPECT_EQ(adapter_.HandleWebhook(r).status().code(), StatusCode::kUnauthenticated);
  net::HttpRequest none = Post(Case(0)["post_fields"], std::nullopt);
  const Result<WebhookResult> refused = adapter_.HandleWebhook(none);
  EXPECT_EQ(refused.status().code(), StatusCode::kUnauthenticated);
  EXPECT_EQ(refused.status().message().find(kSecret), std::string::npos);
  EXPECT_EQ(Refusals("signature"), 4);
}

// A signed field changed: refused. (Unsigned fields are not covered by
// Zadarma's signature at all: see the docs.)
TEST_F(ZadarmaAdapterTest, RefusesATamperedSignedField) {
  for (const char* field : {"caller_id", "called_did", "call_start"}) {
    json f = Case(1)["post_fields"];
    f[field] = f[field].get<std::string>() + "0";
    EXPECT_EQ(adapter_.HandleWebhook(Post(f, Case(1)["Signature_header"].get<std::string>()))
                  .status()
                  .code(),
              StatusCode::kUnauthenticated)
        << field;
  }
  // A signed field left out.
  json f = Case(3)["post_fields"];
  f.erase("call_id_with_rec");
  EXPECT_EQ(adapter_.HandleWebhook(Post(f, Case(3)["Signature_header"].get<std::string>()))
                .status()
                .code(),
            StatusCode::kUnauthenticated);
  // Another event's rule over the same fields: NOTIFY_OUT_START signed as START.
  json out = Case(2)["post_fields"];
  out["event"] = "NOTIFY_START";
  out["caller_id"] = "100";
  out["called_did"] = "74951112233";
  EXPECT_TRUE(
      adapter_.HandleWebhook(Post(out, Case(2)["Signature_header"].get<std::string>())).ok())
      << "the same concatenation under another event verifies: the event is not signed";
}

TEST_F(ZadarmaAdapterTest, RefusesASenderOutsideTheAllowList) {
  net::HttpRequest r = VectorPost(0);
  r.remote_address = "185.45.152.43";
  EXPECT_EQ(adapter_.HandleWebhook(r).status().code(), StatusCode::kPermissionDenied);
  EXPECT_EQ(Refusals("sender"), 1);
  r.remote_address = "::ffff:185.45.152.42";
  EXPECT_TRUE(adapter_.HandleWebhook(r).ok());
}

// What a form can confuse: unknown or missing events, a JSON body, missing
// or overlong ids, repeated fields, bytes that are not UTF-8, nesting in a
// value. A clear 400 (or 401 when the signed fields are not there), never a
// crash or a queued event without a key.
TEST_F(ZadarmaAdapterTest, TypeConfusionInTheForm) {
  auto code = [&](const std::string& body, const std::string& signature) {
    net::HttpRequest r = Post(json::object(), signature);
    r.body = body;
    return adapter_.HandleWebhook(r).status().code();
  };
  const std::string start_sig = Case(0)["Signature_header"].get<std::string>();
  const std::string start_body = Form(Case(0)["post_fields"]);
  EXPECT_EQ(code(Case(0)["post_fields"].dump(), start_sig), StatusCode::kInvalidArgument);  // JSON
  EXPECT_EQ(code("event=NOTIFY_IVR&" + start_body.substr(start_body.find('&') + 1), start_sig),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(code("event=", start_sig), StatusCode::kInvalidArgument);
  EXPECT_EQ(code("", start_sig), StatusCode::kInvalidArgument);
  EXPECT_EQ(code(start_body + "&x=%ff%fe", start_sig), StatusCode::kInvalidArgument);  // not UTF-8
  EXPECT_EQ(code(start_body + "&x=%zz", start_sig), StatusCode::kInvalidArgument);
  // A repeated field keeps its first value: the signature still holds.
  EXPECT_EQ(adapter_
                .HandleWebhook([&] {
                  net::HttpRequest r = VectorPost(0);
                  r.body += "&caller_id=%2B70000000000&event=NOTIFY_END";
                  return r;
                }())
                .status()
                .code(),
            StatusCode::kOk);
  // Signed, but the key's id is missing, empty or overlong.
  for (const std::string& id : {std::string(), std::string(129, 'x')}) {
    json f = Case(0)["post_fields"];
    f["pbx_call_id"] = id;
    EXPECT_EQ(adapter_.HandleWebhook(Post(f, start_sig)).status().code(),
              StatusCode::kInvalidArgument);
  }
  json no_id = Case(0)["post_fields"];
  no_id.erase("pbx_call_id");
  auto missing = adapter_.HandleWebhook(Post(no_id, start_sig));
  EXPECT_EQ(missing.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(missing.status().message().find("pbx_call_id"), std::string::npos);
  // Brackets, huge numbers and nesting in a value are text, kept as sent.
  json odd = Case(0)["post_fields"];
  odd["disposition"] = std::string(2000, '[');
  odd["duration"] = "1" + std::string(400, '0');
  auto kept = adapter_.HandleWebhook(Post(odd, start_sig));
  ASSERT_TRUE(kept.ok()) << kept.status().ToString();
  EXPECT_EQ(json::parse(kept->events[0].payload)["duration"], odd["duration"]);
  EXPECT_GE(Refusals("body"), 9);
}

class ZadarmaFactory : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string tmpl = (std::filesystem::temp_directory_path() / "crmhub-zd-XXXXXX").string();
    ASSERT_NE(mkdtemp(tmpl.data()), nullptr);
    dir_ = tmpl;
    std::ofstream(dir_ / "key") << "key\n";
    std::ofstream(dir_ / "secret") << kSecret << "\n";
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  Result<std::unique_ptr<Adapter>> Build(const std::string& keys) {
    std::ofstream(dir_ / "crmhub.toml", std::ios::trunc) << "[adapters.zd]\ntype = \"zadarma\"\n"
                                                         << keys;
    config::Schema schema;
    schema.adapter_types.push_back(Type().schema);
    auto cfg = config::LoadConfig(dir_ / "crmhub.toml", schema);
    if (!cfg.ok()) return cfg.status();
    return Type().factory(cfg->Adapters()[0], AdapterContext{});
  }
  std::string Secrets() const {
    return "api_key_file = \"" + (dir_ / "key").string() + "\"\napi_secret_file = \"" +
           (dir_ / "secret").string() + "\"\n";
  }
  std::filesystem::path dir_;
};

TEST_F(ZadarmaFactory, BuildsWithTheExamplesSenderByDefault) {
  auto adapter = Build(Secrets());
  ASSERT_TRUE(adapter.ok()) << adapter.status().ToString();
  net::HttpRequest r = VectorPost(0);
  EXPECT_TRUE((*adapter)->webhook()->HandleWebhook(r).ok());
  r.remote_address = "127.0.0.1";
  EXPECT_EQ((*adapter)->webhook()->HandleWebhook(r).status().code(), StatusCode::kPermissionDenied);
  auto open = Build(Secrets() + "allow_ips = [\"127.0.0.0/8\"]\n");
  ASSERT_TRUE(open.ok());
  EXPECT_TRUE((*open)->webhook()->HandleWebhook(r).ok());
  EXPECT_NE(Build("api_key_file = \"" + (dir_ / "key").string() + "\"\n")
                .status()
                .message()
                .find("api_secret_file"),
            std::string::npos);
}

// What the adapter queues, through the shipped rules: the end of an
// incoming or outgoing call is a call (an incoming caller also a contact and
// a lead), a missed-call task event a task; the other events make nothing.
TEST(ZadarmaMapping, EndsAreCallsTheRestIsSkipped) {
  auto rules =
      mapping::LoadRules(std::string(CRMHUB_SOURCE_DIR) + "/config/mappings/zadarma-calls.toml");
  ASSERT_TRUE(rules.ok()) << rules.status().ToString();
  auto map = [&](const json& fields) {
    return rules->ApplyText(fields.dump(), {.source = "zd", .received_ms = 1});
  };
  // NOTIFY_END: the call, and the caller as a contact and a lead.
  auto in = map(Case(1)["post_fields"]);
  ASSERT_TRUE(in.ok()) << in.status().ToString();
  ASSERT_EQ(in->size(), 3u);
  EXPECT_EQ((*in)[1].kind, model::EntityKind::kContact);
  EXPECT_EQ((*in)[1].external_id, "+74951234567");
  EXPECT_EQ((*in)[2].kind, model::EntityKind::kLead);
  EXPECT_EQ((*in)[2].external_id, "call:+74951234567");
  EXPECT_EQ((*in)[0].kind, model::EntityKind::kCall);
  EXPECT_EQ((*in)[0].external_id, "in_0123456789abcdef");
  const json fields = model::ToJson((*in)[0])["fields"];
  EXPECT_EQ(fields["direction"], "in");
  EXPECT_EQ(fields["from"], "+74951234567");
  EXPECT_EQ(fields["result"], "answered");
  EXPECT_EQ(fields["duration_s"], 65);
  json out_end = {{"event", "NOTIFY_OUT_END"},    {"call_start", "2024-03-15 15:00:00"},
                  {"pbx_call_id", "out_1"},       {"internal", "100"},
                  {"destination", "84951112233"}, {"duration", "0"},
                  {"disposition", "no answer"}};
  auto out = map(out_end);
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  ASSERT_EQ(out->size(), 1u);
  const json out_fields = model::ToJson((*out)[0])["fields"];
  EXPECT_EQ(out_fields["direction"], "out");
  EXPECT_EQ(out_fields["to"], "+74951112233");
  EXPECT_EQ(out_fields["result"], "missed");
  // The adapter's task for a missed call, through the adapter itself.
  ZadarmaAdapter adapter(
      [] {
        ZadarmaConfig c;
        c.id = "zd";
        c.signing_key = Secret(kSecret);
        return c;
      }(),
      nullptr);
  json missed = Case(1)["post_fields"];
  missed["disposition"] = "no answer";
  missed["duration"] = "0";
  auto queued = adapter.HandleWebhook(Post(missed, Case(1)["Signature_header"].get<std::string>()));
  ASSERT_TRUE(queued.ok()) << queued.status().ToString();
  ASSERT_EQ(queued->events.size(), 2u);
  auto task = rules->ApplyText(queued->events[1].payload, {.source = "zd", .received_ms = 1});
  ASSERT_TRUE(task.ok()) << task.status().ToString();
  ASSERT_EQ(task->size(), 1u);
  const json t = model::ToJson((*task)[0]);
  EXPECT_EQ(t["kind"], "task");
  EXPECT_EQ(t["external_id"], "+74951234567:1710460800");
  EXPECT_EQ(t["fields"]["title"], "Call back: missed call from +74951234567");
  EXPECT_EQ(t["fields"]["assignee"], "100");
  EXPECT_EQ(t["fields"]["contact_external_id"], "+74951234567");
  EXPECT_EQ(t["fields"]["lead_external_id"], "call:+74951234567");
  // 14:30:00 Moscow + 1h: 12:30:00 UTC.
  EXPECT_EQ(t["fields"]["due_ms"], int64_t{1710505800} * 1000);
  for (size_t i : {size_t{0}, size_t{2}, size_t{3}}) {
    auto skipped = map(Case(i)["post_fields"]);
    ASSERT_TRUE(skipped.ok()) << skipped.status().ToString();
    EXPECT_TRUE(skipped->empty()) << i;
  }
}

}  // namespace
}  // namespace crmhub::adapters::zadarma
