#include "daemon/cli/flags.h"

#include <fmt/format.h>

#include <charconv>
#include <cstdio>
#include <optional>

#include "base/units.h"

namespace crmhub::cli {

FlagParser::FlagParser(std::string usage, std::string summary)
    : usage_(std::move(usage)), summary_(std::move(summary)) {}

void FlagParser::AddString(std::string name, std::string* out, std::string metavar,
                           std::string help) {
  flags_.push_back({std::move(name), std::move(metavar), std::move(help),
                    [out](const std::string& v) {
                      *out = v;
                      return Status::Ok();
                    },
                    false});
}

void FlagParser::AddInt(std::string name, int64_t* out, std::string metavar, std::string help) {
  std::string flag = name;
  flags_.push_back({std::move(name), std::move(metavar), std::move(help),
                    [out, flag](const std::string& v) {
                      int64_t parsed = 0;
                      auto [end, ec] = std::from_chars(v.data(), v.data() + v.size(), parsed);
                      if (ec != std::errc() || end != v.data() + v.size()) {
                        return Status::InvalidArgument(
                            fmt::format("{} expects a whole number, got \"{}\"", flag, v));
                      }
                      *out = parsed;
                      return Status::Ok();
                    },
                    false});
}

void FlagParser::AddBool(std::string name, bool* out, std::string help) {
  flags_.push_back({std::move(name), "", std::move(help),
                    [out](const std::string&) {
                      *out = true;
                      return Status::Ok();
                    },
                    true});
}

void FlagParser::AddDuration(std::string name, int64_t* out_ms, std::string metavar,
                             std::string help) {
  std::string flag = name;
  flags_.push_back({std::move(name), std::move(metavar), std::move(help),
                    [out_ms, flag](const std::string& v) {
                      auto d = ParseDuration(v);
                      if (!d.ok()) return d.status().WithContext(flag);
                      *out_ms = d->count();
                      return Status::Ok();
                    },
                    false});
}

Status FlagParser::Parse(const std::vector<std::string>& args) {
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string& arg = args[i];
    if (arg == "-h" || arg == "--help") {
      help_requested_ = true;
      return Status::Ok();
    }
    if (arg.size() > 2 && arg.rfind("--", 0) == 0) {
      std::string name = arg;
      std::optional<std::string> inline_value;
      if (auto eq = arg.find('='); eq != std::string::npos) {
        name = arg.substr(0, eq);
        inline_value = arg.substr(eq + 1);
      }
      const Flag* flag = nullptr;
      for (const Flag& f : flags_) {
        if (f.name == name) flag = &f;
      }
      if (flag == nullptr) return Status::InvalidArgument(fmt::format("unknown option {}", name));
      if (flag->is_bool) {
        if (inline_value) return Status::InvalidArgument(fmt::format("{} takes no value", name));
        CRMHUB_RETURN_IF_ERROR(flag->set(""));
        continue;
      }
      std::string value;
      if (inline_value) {
        value = *inline_value;
      } else {
        if (i + 1 >= args.size()) {
          return Status::InvalidArgument(fmt::format("{} needs a value ({})", name, flag->metavar));
        }
        value = args[++i];
      }
      CRMHUB_RETURN_IF_ERROR(flag->set(value));
      continue;
    }
    if (positional_ == nullptr) {
      return Status::InvalidArgument(fmt::format("unexpected argument \"{}\"", arg));
    }
    positional_->push_back(arg);
  }
  return Status::Ok();
}

std::string FlagParser::Help() const {
  std::string out = fmt::format("usage: {}\n\n{}\n", usage_, summary_);
  if (!flags_.empty()) {
    out += "\noptions:\n";
    for (const Flag& f : flags_) {
      std::string left = f.is_bool ? f.name : f.name + " " + f.metavar;
      out += fmt::format("  {:<28} {}\n", left, f.help);
    }
  }
  out += fmt::format("  {:<28} {}\n", "-h, --help", "show this help and exit");
  return out;
}

int ParseOrExit(FlagParser& parser, const std::vector<std::string>& args) {
  Status st = parser.Parse(args);
  if (parser.help_requested()) {
    std::fputs(parser.Help().c_str(), stdout);
    return 0;
  }
  if (!st.ok()) {
    std::fprintf(stderr, "error: %s\n\n%s", st.message().c_str(), parser.Help().c_str());
    return 2;
  }
  return -1;
}

}  // namespace crmhub::cli
