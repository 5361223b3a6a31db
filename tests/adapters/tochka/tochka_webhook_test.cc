// Tochka's webhooks: the seven sample JWTs of the doc verify with the key
// the README names and fail with another; forged, re-signed with a foreign
// key, alg "none", expired or not-yet-valid tokens are refused; through the
// daemon's intake a refused webhook stores nothing; the mapped payment
// carries the dedup identity bank-1c gives the same payment in a file.

#include <gtest/gtest.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include <nlohmann/json.hpp>

#include "adapters/bank_1c/statement_parser.h"
#include "adapters/tochka/tochka_adapter.h"
#include "mapping/model/model.h"
#include "mapping/rules/rule_set.h"
#include "net/hmac.h"
#include "net/jwt_rs256.h"
#include "tests/adapters/bank_1c/statement_builder.h"
#include "tests/daemon/http_routes_harness.h"

namespace crmhub::adapters::tochka {
namespace {

using nlohmann::json;

std::string Contract(const std::string& name) {
  std::ifstream in(std::string(CRMHUB_CONTRACTS_DIR) + "/banks/tochka/webhooks/" + name,
                   std::ios::binary);
  EXPECT_TRUE(in.good()) << name;
  std::ostringstream buf;
  buf << in.rdbuf();
  return buf.str();
}

const char* const kSamples[] = {"incomingPayment",
                                "outgoingPayment",
                                "incomingSbpPayment",
                                "incomingSbpB2BPayment",
                                "acquiringInternetPayment_card",
                                "acquiringInternetPayment_sbp",
                                "acquiringInternetPayment_dolyame"};

// A fresh RSA key pair: the private key to sign test tokens, the public as PEM.
struct TestKey {
  EVP_PKEY* pkey = EVP_RSA_gen(2048);
  ~TestKey() { EVP_PKEY_free(pkey); }
  std::string PublicPem() const {
    BIO* bio = BIO_new(BIO_s_mem());
    PEM_write_bio_PUBKEY(bio, pkey);
    char* data = nullptr;
    long n = BIO_get_mem_data(bio, &data);
    std::string out(data, static_cast<size_t>(n));
    BIO_free(bio);
    return out;
  }
  std::string Sign(const json& header, const json& payload) const {
    std::string signed_part =
        net::Base64UrlEncode(header.dump()) + "." + net::Base64UrlEncode(payload.dump());
    EVP_MD_CTX* ctx = EVP_MD_CTX_new();
    size_t len = 0;
    EVP_DigestSignInit(ctx, nullptr, EVP_sha256(), nullptr, pkey);
    EVP_DigestSign(ctx, nullptr, &len, reinterpret_cast<const unsigned char*>(signed_part.data()),
                   signed_part.size());
    std::string sig(len, '\0');
    EVP_DigestSign(ctx, reinterpret_cast<unsigned char*>(sig.data()), &len,
                   reinterpret_cast<const unsigned char*>(signed_part.data()), signed_part.size());
    EVP_MD_CTX_free(ctx);
    sig.resize(len);
    return signed_part + "." + net::Base64UrlEncode(sig);
  }
};

const SystemTime kNow = FromUnixMillis(1'765'000'000'000);

TEST(TochkaJwtTest, TheSamplesVerifyWithTheRightKeyOnly) {
  auto right = net::Rs256Verifier::FromKeyText(Contract("tochka_webhook_public_key.jwk.json"));
  ASSERT_TRUE(right.ok()) << right.status().ToString();
  TestKey other;
  auto wrong = net::Rs256Verifier::FromKeyText(other.PublicPem());
  ASSERT_TRUE(wrong.ok()) << wrong.status().ToString();
  for (const char* name : kSamples) {
    const std::string token = Contract(std::string(name) + ".jwt");
    auto payload = right->Verify(token, kNow);
    ASSERT_TRUE(payload.ok()) << name << ": " << payload.status().ToString();
    // What verified is what the doc page decodes.
    EXPECT_EQ(json::parse(*payload), json::parse(Contract(std::string(name) + ".decoded.json")))
        << name;
    auto refused = wrong->Verify(token, kNow);
    EXPECT_EQ(refused.status().code(), StatusCode::kUnauthenticated) << name;
    EXPECT_EQ(refused.status().message(), "the JWT's signature does not verify");
  }
  EXPECT_FALSE(net::Rs256Verifier::FromKeyText("{\"kty\":\"EC\"}").ok());
  EXPECT_FALSE(net::Rs256Verifier::FromKeyText("not a key").ok());
}

TEST(TochkaJwtTest, ForgedExpiredAndAlgNoneAreRefused) {
  auto right = net::Rs256Verifier::FromKeyText(Contract("tochka_webhook_public_key.jwk.json"));
  ASSERT_TRUE(right.ok());
  const std::string token = Contract("incomingPayment.jwt");
  const size_t dot1 = token.find('.'), dot2 = token.find('.', dot1 + 1);
  // The payload changed (another amount), Tochka's signature kept.
  json forged = json::parse(Contract("incomingPayment.decoded.json"));
  forged["SidePayer"]["amount"] = "40000.0";
  std::string tampered =
      token.substr(0, dot1 + 1) + net::Base64UrlEncode(forged.dump()) + token.substr(dot2);
  EXPECT_EQ(right->Verify(tampered, kNow).status().message(),
            "the JWT's signature does not verify");
  // Signed, but by someone else.
  TestKey other;
  EXPECT_FALSE(right->Verify(other.Sign({{"alg", "RS256"}, {"typ", "JWT"}}, forged), kNow).ok());
  // alg none, no signature.
  std::string none =
      net::Base64UrlEncode(R"({"alg":"none"})") + "." + net::Base64UrlEncode(forged.dump()) + ".";
  EXPECT_EQ(right->Verify(none, kNow).status().message(), "the JWT is not RS256");
  EXPECT_FALSE(right->Verify("a.b", kNow).ok());
  EXPECT_FALSE(right->Verify("", kNow).ok());
  // exp and nbf, with a key of our own.
  auto mine = net::Rs256Verifier::FromKeyText(other.PublicPem());
  ASSERT_TRUE(mine.ok());
  const int64_t now_s = ToUnixMillis(kNow) / 1000;
  json claims = forged;
  claims["exp"] = now_s - 3600;
  EXPECT_EQ(mine->Verify(other.Sign({{"alg", "RS256"}}, claims), kNow).status().message(),
            "the JWT has expired");
  claims["exp"] = now_s + 3600;
  EXPECT_TRUE(mine->Verify(other.Sign({{"alg", "RS256"}}, claims), kNow).ok());
  claims["nbf"] = now_s + 3600;
  EXPECT_EQ(mine->Verify(other.Sign({{"alg", "RS256"}}, claims), kNow).status().message(),
            "the JWT is not valid yet");
  claims.erase("nbf");
  claims["exp"] = "tomorrow";
  EXPECT_FALSE(mine->Verify(other.Sign({{"alg", "RS256"}}, claims), kNow).ok());
}

class TochkaIntakeTest : public ::testing::Test {
 protected:
  void Start(std::vector<std::string> accounts = {}) {
    auto verifier = net::Rs256Verifier::FromKeyText(Contract("tochka_webhook_public_key.jwk.json"));
    ASSERT_TRUE(verifier.ok());
    TochkaConfig c;
    c.id = "tochka";
    c.customer_code = "300123123";
    c.accounts = std::move(accounts);
    h.AddAdapter(std::make_shared<TochkaAdapter>(std::move(c), std::move(*verifier), h.clock));
    h.Start(/*serve=*/true);
  }
  daemon::testing::Answer Post(const std::string& body) {
    return h.Http("POST", "/hooks/tochka", body, {{"Content-Type", "text/plain"}});
  }
  daemon::testing::Harness h;
};

TEST_F(TochkaIntakeTest, EverySampleIsQueuedOnceARefusalStoresNothing) {
  Start();
  for (const char* name : kSamples) {
    auto a = Post(Contract(std::string(name) + ".jwt"));
    EXPECT_EQ(a.status, 200) << name << ": " << a.body;
  }
  // A redelivery (Tochka resends on anything but 200) is a duplicate.
  EXPECT_EQ(Post(Contract("incomingPayment.jwt")).status, 200);
  auto msgs = h.Drain("in.tochka");
  // The three acquiring samples share an operationId and status: one event.
  std::set<std::string> keys;
  for (const auto& m : msgs) keys.insert(m.idempotency_key);
  ASSERT_EQ(msgs.size(), 5u) << ::testing::PrintToString(keys);
  EXPECT_TRUE(keys.count("tochka:incomingPayment:0000000000") &&
              keys.count("tochka:outgoingPayment:0000000000"));
  EXPECT_TRUE(keys.count("tochka:sbp:A22001100263820100000533E625FCB3"));
  EXPECT_TRUE(keys.count("tochka:acquiring:beeac8a4-6047-3f38-8922-a664e6b5c43b:APPROVED"));

  // Forged, unsigned, garbage: 401, nothing queued.
  const std::string token = Contract("incomingSbpPayment.jwt");
  std::string tampered = token;
  tampered[token.find('.') + 10] = tampered[token.find('.') + 10] == 'A' ? 'B' : 'A';
  EXPECT_EQ(Post(tampered).status, 401);
  EXPECT_EQ(Post("{\"webhookType\":\"incomingPayment\"}").status, 401);
  EXPECT_EQ(Post("").status, 401);
  EXPECT_TRUE(h.Drain("in.tochka").empty());
}

TEST_F(TochkaIntakeTest, AnotherCustomerOrAccountIsRefused) {
  Start({"40702810000000000001/044525104"});
  // The samples' recipient account is 000...: not ours.
  EXPECT_EQ(Post(Contract("incomingPayment.jwt")).status, 403);
  EXPECT_TRUE(h.Drain("in.tochka").empty());
}

TEST(TochkaMappingTest, OneIdentityWithTheSamePaymentInA1cFile) {
  auto verifier = net::Rs256Verifier::FromKeyText(Contract("tochka_webhook_public_key.jwk.json"));
  ASSERT_TRUE(verifier.ok());
  ManualClock clock(kNow);
  TochkaAdapter adapter({.id = "tochka", .customer_code = "300123123"}, std::move(*verifier),
                        clock);
  net::HttpRequest r;
  r.method = "POST";
  r.path = "/hooks/tochka";
  r.body = Contract("incomingPayment.jwt");
  auto result = adapter.HandleWebhook(r);
  ASSERT_TRUE(result.ok()) << result.status().ToString();
  ASSERT_EQ(result->events.size(), 1u);
  auto rules =
      mapping::LoadRules(std::string(CRMHUB_SOURCE_DIR) + "/config/mappings/tochka-payments.toml");
  ASSERT_TRUE(rules.ok()) << rules.status().ToString();
  auto entities = rules->ApplyText(result->events[0].payload, {"tochka", nullptr, 0});
  ASSERT_TRUE(entities.ok()) << entities.status().ToString();
  ASSERT_EQ(entities->size(), 1u);
  const model::Entity& e = (*entities)[0];
  EXPECT_EQ(e.kind, model::EntityKind::kBankTransaction);
  EXPECT_EQ(e.fields["amount"], 4000);
  EXPECT_EQ(e.fields["status"], "booked");
  EXPECT_EQ(e.fields["direction"], "in");
  EXPECT_EQ(e.fields["extra"]["payment_id"], "0000000000");

  // The same payment as a document of a statement.
  testutil::TestPayment p;
  p.number = "00000";
  p.date = "01.10.2018";
  p.kopecks = 4000;
  p.payer_inn = "0000000000";
  p.payer_account = "00000000000000000000";
  std::string file = testutil::BuildStatement({p});
  file.replace(file.find(testutil::kOwnAccount, file.find("ПолучательСчет=")),
               std::string(testutil::kOwnAccount).size(), "00000000000000000000");
  auto st = bank_1c::ParseStatement(file);
  ASSERT_TRUE(st.ok()) << st.status().ToString();
  auto bank_rules = mapping::LoadRules(std::string(CRMHUB_SOURCE_DIR) +
                                       "/config/mappings/bank-1c-statement.toml");
  ASSERT_TRUE(bank_rules.ok());
  auto from_file = bank_rules->Apply(st->documents[0], {"bank", nullptr, 0});
  ASSERT_TRUE(from_file.ok()) << from_file.status().ToString();
  EXPECT_EQ((*from_file)[0].external_id, e.external_id);
  EXPECT_EQ(e.external_id, "2018-10-01|00000|4000|0000000000|00000000000000000000#1");
}

}  // namespace
}  // namespace crmhub::adapters::tochka
