#include "adapters/simkit/call_world.h"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <string>

#include <nlohmann/json.hpp>

#include "adapters/simkit/world.h"
#include "net/api_client.h"

namespace crmhub::simkit {

using std::chrono::seconds;

std::vector<SimCall> CreateCalls(const SimOptions& options, const Clock& clock) {
  std::vector<SimCall> calls;
  CreateOrders(options, clock, [&](int i, SystemTime created, SeededRng& rng) {
    SimCall c;
    c.index = i;
    c.incoming = rng.Chance(0.7);
    c.answered = rng.Chance(0.65);
    // A few callers call more than once: numbers from a pool of n / 2.
    c.customer = fmt::format("7916{:07d}", rng.Int(0, std::max(1, options.orders / 2)));
    c.line = fmt::format("7495{:07d}", 1000000 + rng.Int(0, 2));
    c.extension = std::to_string(101 + rng.Int(0, 4));
    c.start = std::chrono::time_point_cast<seconds>(created);
    c.answer = c.answered ? c.start + seconds(rng.Int(2, 15)) : c.start;
    c.end = (c.answered ? c.answer : c.start) + seconds(rng.Int(5, 120));
    calls.push_back(std::move(c));
  });
  return calls;
}

std::optional<std::map<std::string, std::string>> DecodeForm(std::string_view body) {
  auto decode = [](std::string_view in) -> std::optional<std::string> {
    std::string out;
    for (size_t i = 0; i < in.size(); ++i) {
      if (in[i] == '+') {
        out += ' ';
      } else if (in[i] != '%') {
        out += in[i];
      } else if (i + 2 < in.size() + 0 && std::isxdigit(static_cast<unsigned char>(in[i + 1])) &&
                 std::isxdigit(static_cast<unsigned char>(in[i + 2]))) {
        auto hex = [](char c) {
          return std::isdigit(static_cast<unsigned char>(c)) ? c - '0' : (c | 0x20) - 'a' + 10;
        };
        out += static_cast<char>(hex(in[i + 1]) * 16 + hex(in[i + 2]));
        i += 2;
      } else {
        return std::nullopt;
      }
    }
    return out;
  };
  std::map<std::string, std::string> fields;
  while (!body.empty()) {
    const size_t amp = std::min(body.find('&'), body.size());
    const std::string_view pair = body.substr(0, amp);
    body.remove_prefix(std::min(amp + 1, body.size()));
    if (pair.empty()) continue;
    const size_t eq = std::min(pair.find('='), pair.size());
    auto name = decode(pair.substr(0, eq));
    auto value = decode(pair.substr(std::min(eq + 1, pair.size())));
    if (!name || !value) return std::nullopt;
    fields.emplace(std::move(*name), std::move(*value));
  }
  return fields;
}

std::string EncodeForm(const std::vector<std::pair<std::string, std::string>>& fields) {
  std::string out;
  for (const auto& [name, value] : fields) {
    if (!out.empty()) out += '&';
    out += net::UrlEncode(name) + "=" + net::UrlEncode(value);
  }
  return out;
}

CredentialPair ReadCredentialPair(const SimOptions& options, std::string_view default_key,
                                  std::string_view default_secret) {
  if (options.credentials.empty()) return {std::string(default_key), std::string(default_secret)};
  const std::string& given = options.credentials[0];
  const size_t colon = given.find(':');
  if (colon == std::string::npos) return {given, ""};
  return {given.substr(0, colon), given.substr(colon + 1)};
}

Status CheckCredentialPair(const SimOptions& options, std::string_view system,
                           std::string_view form) {
  const CredentialPair pair = ReadCredentialPair(options, "k", "s");
  if (!pair.key.empty() && !pair.secret.empty()) return Status::Ok();
  return Status::InvalidArgument(fmt::format("{} simulator: --tokens takes {}", system, form));
}

CallSimulator::CallSimulator(const SimOptions& options, Clock& clock, uint64_t salt)
    : PushingSimulator(options, clock, salt), calls_(CreateCalls(options, clock)) {}

SystemTime CallSimulator::AllFinalAt() const {
  SystemTime last{};
  for (const SimCall& c : calls_) last = std::max(last, c.end + LastWordAfterEnd());
  return last;
}

std::map<std::string, std::string> CallSimulator::OrderStatuses(bool final_only) const {
  std::map<std::string, std::string> out;
  const SystemTime now = clock().Now();
  for (const SimCall& c : calls_) {
    if (!final_only && c.end + LastWordAfterEnd() > now) continue;
    out[CallId(c)] = c.answered ? "answered" : "missed";
  }
  return out;
}

std::string CallSimulator::StateJson() const { return PushStateJson("calls", calls_.size()); }

}  // namespace crmhub::simkit
