#pragma once
// Prism (Stoplight's OpenAPI mock / validating proxy) as a child process for
// contract tests. See docs/contract-tests.md.
//
// Typical use (a test of an adapter against a marketplace's OpenAPI spec):
//
//   PrismOptions options;
//   options.spec = std::string(CRMHUB_CONTRACTS_DIR) + "/marketplaces/x.json";
//   options.upstream = "http://127.0.0.1:" + std::to_string(sim.port());
//   auto prism = PrismProcess::Start(options);
//   ASSERT_TRUE(prism.ok()) << prism.status().ToString();
//   // point the adapter at (*prism)->base_url() and run it ...
//   // any request the adapter sends that breaks the spec is answered by
//   // Prism itself (with --errors) with 422/400/401 problem+json:
//   EXPECT_FALSE(IsPrismValidationError(status, body));
//
// Prism is pinned in tests/contract/package.json and installed with
// `npm ci --prefix tests/contract` (scripts/test.sh does it). When it is not
// installed, Start() fails with a message saying so: contract tests must
// fail, never skip silently.
//
// Thread-safety: a PrismProcess is owned by one test thread.

#include <sys/types.h>

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "base/status.h"

namespace crmhub::testing {

struct PrismOptions {
  enum class Mode { kProxy, kMock };
  Mode mode = Mode::kProxy;
  // Path of the OpenAPI document.
  std::string spec;
  // For kProxy: where valid requests are forwarded ("http://127.0.0.1:1234").
  std::string upstream;
  // --errors: a request (or a proxied response) that violates the spec is
  // answered with an error instead of only being logged. Keep it on.
  bool errors = true;
  // Textual replacements applied to a copy of `spec` before Prism loads it
  // (for single-file specs whose few external $refs point at files that are
  // not shipped, e.g. Ozon's "../../components/schemas/rpcStatus.yaml").
  // Empty: Prism loads `spec` itself (multi-file specs keep their folder).
  std::vector<std::pair<std::string, std::string>> spec_rewrites;
  // How long to wait for "listening" (a 2.4 MB spec takes a few seconds).
  std::chrono::milliseconds start_timeout{60000};
  // Path of the prism executable; empty: DefaultPrismBinary().
  std::string binary;
};

// ${CRMHUB_SOURCE_DIR}/tests/contract/node_modules/.bin/prism, or the
// PRISM_BINARY environment variable when set.
std::string DefaultPrismBinary();

class PrismProcess {
 public:
  // Starts Prism on a free loopback port and waits until it accepts
  // connections. Fails (kFailedPrecondition) with an install hint when the
  // binary is missing, or with Prism's log when it exits or times out.
  static Result<std::unique_ptr<PrismProcess>> Start(const PrismOptions& options);

  ~PrismProcess();  // Stop()
  PrismProcess(const PrismProcess&) = delete;
  PrismProcess& operator=(const PrismProcess&) = delete;

  int port() const { return port_; }
  // "http://127.0.0.1:<port>"
  std::string base_url() const;
  // Everything Prism printed so far (request lines, violations, errors).
  std::string Log() const;
  // Sends SIGTERM, then SIGKILL if it lingers; waits for the child. Idempotent.
  void Stop();

 private:
  PrismProcess(pid_t pid, int port, std::string log_path, std::string temp_dir)
      : pid_(pid), port_(port), log_path_(std::move(log_path)), temp_dir_(std::move(temp_dir)) {}

  pid_t pid_ = -1;
  int port_ = 0;
  std::string log_path_;
  std::string temp_dir_;
};

// One violation Prism reported ("location" joined by '.', e.g. "body.stocks.0").
struct PrismViolation {
  std::string location;
  std::string code;  // "required", "type", ...
  std::string message;
};

// What Prism answers itself instead of forwarding: problem+json with a
// "type" under https://stoplight.io/prism/errors#...
struct PrismProblem {
  int status = 0;
  std::string type;  // e.g. "https://stoplight.io/prism/errors#UNPROCESSABLE_ENTITY"
  std::string title;
  std::string detail;
  std::vector<PrismViolation> violations;
  std::string ToString() const;
};

// Parses a response as a Prism-generated problem; nullopt when the response
// came from the upstream (or is not Prism's shape).
std::optional<PrismProblem> ParsePrismProblem(int status, std::string_view body);

// True when Prism itself rejected the request because it breaks the spec
// (request validation: 422/400/401/... with a Prism problem type, or a
// response violation with --errors).
bool IsPrismValidationError(int status, std::string_view body);

// A free TCP port on 127.0.0.1 right now (bind to 0, read, close).
Result<int> PickFreeLoopbackPort();

}  // namespace crmhub::testing
