#include "adapters/simkit/fault_spec.h"

#include <fmt/format.h>

#include <cctype>
#include <charconv>
#include <cmath>
#include <set>

namespace crmhub::simkit {
namespace {

std::string_view Trim(std::string_view s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
  return s;
}

constexpr std::string_view kNames = "429, 500, 503, timeout, slow, dup, malformed";

}  // namespace

std::string_view FaultName(Fault fault) {
  switch (fault) {
    case Fault::kNone:
      return "none";
    case Fault::k429:
      return "429";
    case Fault::k500:
      return "500";
    case Fault::k503:
      return "503";
    case Fault::kTimeout:
      return "timeout";
    case Fault::kSlow:
      return "slow";
    case Fault::kDup:
      return "dup";
    case Fault::kMalformed:
      return "malformed";
  }
  return "none";
}

Fault FaultSpec::Pick(double u) const {
  const std::pair<double, Fault> slices[] = {
      {p429, Fault::k429},           {p500, Fault::k500},  {p503, Fault::k503},
      {timeout, Fault::kTimeout},    {slow, Fault::kSlow}, {dup, Fault::kDup},
      {malformed, Fault::kMalformed}};
  double edge = 0;
  for (const auto& [p, fault] : slices) {
    edge += p;
    if (p > 0 && u < edge) return fault;
  }
  return Fault::kNone;
}

std::string FaultSpec::ToString() const {
  std::string out;
  auto add = [&](std::string_view name, double p) {
    if (p <= 0) return;
    if (!out.empty()) out += ',';
    out += fmt::format("{}={}", name, p);
  };
  add("429", p429);
  add("500", p500);
  add("503", p503);
  add("timeout", timeout);
  add("slow", slow);
  add("dup", dup);
  add("malformed", malformed);
  return out.empty() ? "none" : out;
}

bool ParseProbability(std::string_view text, double* out) {
  if (text.empty() || text.size() > 32) return false;
  int dots = 0;
  int digits = 0;
  for (char c : text) {
    if (c == '.') {
      ++dots;
    } else if (std::isdigit(static_cast<unsigned char>(c))) {
      ++digits;
    } else {
      return false;
    }
  }
  if (dots > 1 || digits == 0) return false;
  std::string copy(text);
  if (copy.front() == '.') copy.insert(copy.begin(), '0');
  char* end = nullptr;
  double v = std::strtod(copy.c_str(), &end);
  if (end != copy.c_str() + copy.size() || !std::isfinite(v) || v > 1) return false;
  *out = v;
  return true;
}

Result<FaultSpec> ParseFaultSpec(std::string_view text) {
  FaultSpec spec;
  text = Trim(text);
  if (text.empty() || text == "none") return spec;
  std::set<std::string, std::less<>> seen;
  size_t pos = 0;
  while (pos <= text.size()) {
    size_t comma = text.find(',', pos);
    if (comma == std::string_view::npos) comma = text.size();
    std::string_view entry = Trim(text.substr(pos, comma - pos));
    pos = comma + 1;
    if (entry.empty()) {
      return Status::InvalidArgument(
          fmt::format("--faults: empty entry in \"{}\" (expected name=probability, ...)", text));
    }
    size_t eq = entry.find('=');
    if (eq == std::string_view::npos) {
      return Status::InvalidArgument(
          fmt::format("--faults: \"{}\" is not name=probability (names: {})", entry, kNames));
    }
    std::string_view name = Trim(entry.substr(0, eq));
    std::string_view value = Trim(entry.substr(eq + 1));
    double* slot = nullptr;
    if (name == "429")
      slot = &spec.p429;
    else if (name == "500")
      slot = &spec.p500;
    else if (name == "503")
      slot = &spec.p503;
    else if (name == "timeout")
      slot = &spec.timeout;
    else if (name == "slow")
      slot = &spec.slow;
    else if (name == "dup")
      slot = &spec.dup;
    else if (name == "malformed")
      slot = &spec.malformed;
    if (slot == nullptr) {
      return Status::InvalidArgument(
          fmt::format("--faults: unknown fault \"{}\" (names: {})", name, kNames));
    }
    if (!seen.insert(std::string(name)).second) {
      return Status::InvalidArgument(fmt::format("--faults: \"{}\" given twice", name));
    }
    double p = 0;
    if (!ParseProbability(value, &p)) {
      return Status::InvalidArgument(
          fmt::format("--faults: {}: \"{}\" is not a probability between 0 and 1", name, value));
    }
    *slot = p;
    if (comma == text.size()) break;
  }
  if (spec.Total() > 1.0 + 1e-9) {
    return Status::InvalidArgument(fmt::format(
        "--faults: probabilities add up to {} (more than 1); each request gets at most one fault",
        spec.Total()));
  }
  return spec;
}

}  // namespace crmhub::simkit
