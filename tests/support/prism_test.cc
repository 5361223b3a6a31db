// Tests of the Prism harness itself, against a tiny spec in `prism mock`
// mode: a valid request is answered from the spec, a request that breaks it
// is reported as a validation error, and a missing install fails loudly.

#include "tests/support/prism.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>

namespace crmhub::testing {
namespace {

constexpr const char* kSpec = R"({
  "openapi": "3.0.0",
  "info": {"title": "t", "version": "1"},
  "paths": {
    "/v1/items": {
      "post": {
        "parameters": [{"name": "Api-Key", "in": "header", "required": true,
                        "schema": {"type": "string"}}],
        "requestBody": {"required": true, "content": {"application/json": {"schema": {
          "type": "object", "required": ["items"],
          "properties": {"items": {"type": "array", "maxItems": 2, "items": {
            "type": "object", "required": ["id"],
            "properties": {"id": {"type": "integer"}}}}}}}}},
        "responses": {"200": {"description": "ok", "content": {"application/json": {
          "schema": {"type": "object", "properties": {"ok": {"type": "boolean"}}},
          "example": {"ok": true}}}}}
      }
    }
  }
})";

struct RawResponse {
  int status = 0;
  std::string body;
};

// A minimal blocking HTTP/1.1 exchange, so this test depends on nothing but
// the harness.
RawResponse Post(int port, const std::string& path, const std::string& body, bool with_key) {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  EXPECT_EQ(::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)), 0);
  std::string req = "POST " + path + " HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n" +
                    "Content-Type: application/json\r\n" + (with_key ? "Api-Key: k\r\n" : "") +
                    "Content-Length: " + std::to_string(body.size()) + "\r\n\r\n" + body;
  EXPECT_EQ(::send(fd, req.data(), req.size(), 0), static_cast<ssize_t>(req.size()));
  std::string raw;
  char buf[4096];
  ssize_t n;
  while ((n = ::recv(fd, buf, sizeof(buf), 0)) > 0) raw.append(buf, static_cast<size_t>(n));
  ::close(fd);
  RawResponse out;
  if (raw.size() > 12) out.status = std::atoi(raw.substr(9, 3).c_str());
  auto split = raw.find("\r\n\r\n");
  if (split != std::string::npos) out.body = raw.substr(split + 4);
  return out;
}

class PrismHarnessTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() / ("prism-harness-" + std::to_string(::getpid()));
    std::filesystem::create_directories(dir_);
    spec_ = (dir_ / "spec.json").string();
    std::ofstream(spec_) << kSpec;
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  std::filesystem::path dir_;
  std::string spec_;
};

TEST_F(PrismHarnessTest, MockAnswersValidAndRejectsInvalidRequests) {
  PrismOptions options;
  options.mode = PrismOptions::Mode::kMock;
  options.spec = spec_;
  auto prism = PrismProcess::Start(options);
  ASSERT_TRUE(prism.ok()) << prism.status().ToString();

  auto ok = Post((*prism)->port(), "/v1/items", R"({"items":[{"id":1}]})", true);
  EXPECT_EQ(ok.status, 200) << ok.body;
  EXPECT_FALSE(IsPrismValidationError(ok.status, ok.body)) << ok.body;

  // Too many items (maxItems 2) and a wrong type.
  auto bad =
      Post((*prism)->port(), "/v1/items", R"({"items":[{"id":1},{"id":2},{"id":"x"}]})", true);
  EXPECT_TRUE(IsPrismValidationError(bad.status, bad.body)) << bad.status << " " << bad.body;
  auto problem = ParsePrismProblem(bad.status, bad.body);
  ASSERT_TRUE(problem.has_value());
  EXPECT_FALSE(problem->violations.empty()) << problem->ToString();

  // Missing required header.
  auto no_key = Post((*prism)->port(), "/v1/items", R"({"items":[{"id":1}]})", false);
  EXPECT_TRUE(IsPrismValidationError(no_key.status, no_key.body)) << no_key.body;
  EXPECT_NE(no_key.body.find("api-key"), std::string::npos) << no_key.body;

  EXPECT_NE((*prism)->Log().find("/v1/items"), std::string::npos);
  (*prism)->Stop();
}

TEST_F(PrismHarnessTest, SpecRewritesApplyToACopy) {
  std::ofstream(spec_) << std::string(kSpec).replace(std::string(kSpec).find("\"maxItems\": 2"), 13,
                                                     "\"maxItems\": 9");
  PrismOptions options;
  options.mode = PrismOptions::Mode::kMock;
  options.spec = spec_;
  options.spec_rewrites = {{"\"maxItems\": 9", "\"maxItems\": 1"}};
  auto prism = PrismProcess::Start(options);
  ASSERT_TRUE(prism.ok()) << prism.status().ToString();
  auto bad = Post((*prism)->port(), "/v1/items", R"({"items":[{"id":1},{"id":2}]})", true);
  EXPECT_TRUE(IsPrismValidationError(bad.status, bad.body)) << bad.body;
}

TEST(PrismHarness, MissingBinaryFailsWithInstallHint) {
  PrismOptions options;
  options.spec = "/dev/null";
  options.upstream = "http://127.0.0.1:1";
  options.binary = "/nonexistent/node_modules/.bin/prism";
  auto prism = PrismProcess::Start(options);
  ASSERT_FALSE(prism.ok());
  EXPECT_EQ(prism.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_NE(prism.status().message().find("npm ci --prefix tests/contract"), std::string::npos);
}

TEST(PrismHarness, UpstreamAnswersAreNotMistakenForPrismErrors) {
  EXPECT_FALSE(IsPrismValidationError(400, R"({"code":3,"message":"bad","details":[]})"));
  EXPECT_FALSE(IsPrismValidationError(200, "not json"));
  EXPECT_TRUE(IsPrismValidationError(
      422,
      R"({"type":"https://stoplight.io/prism/errors#UNPROCESSABLE_ENTITY","title":"Invalid request","status":422,"validation":[{"location":["body","x"],"severity":"Error","code":"required","message":"m"}]})"));
}

}  // namespace
}  // namespace crmhub::testing
