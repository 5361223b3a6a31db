#pragma once
// FlagParser: the small, strict command-line parser every subcommand uses.
// "--name value" and "--name=value"; booleans take no value; positional
// arguments collected in order. Unknown flags and missing values are usage
// errors (exit 2). Every flag has a help line, so --help is never stale.

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "base/status.h"

namespace crmhub::cli {

class FlagParser {
 public:
  // `usage` is the synopsis ("crmhub queue stats [--json] --data-dir DIR"),
  // `summary` one or two sentences on what the command does.
  FlagParser(std::string usage, std::string summary);

  void AddString(std::string name, std::string* out, std::string metavar, std::string help);
  void AddInt(std::string name, int64_t* out, std::string metavar, std::string help);
  void AddBool(std::string name, bool* out, std::string help);
  // A duration flag ("30s"), stored as milliseconds.
  void AddDuration(std::string name, int64_t* out_ms, std::string metavar, std::string help);
  // Accept positional arguments (described in the usage line).
  void AllowPositional(std::vector<std::string>* out) { positional_ = out; }

  // Parses; returns InvalidArgument with a message for the user on error.
  // Sets help_requested() on -h/--help instead of failing.
  Status Parse(const std::vector<std::string>& args);
  bool help_requested() const { return help_requested_; }
  std::string Help() const;

 private:
  struct Flag {
    std::string name;
    std::string metavar;  // empty for booleans
    std::string help;
    std::function<Status(const std::string&)> set;
    bool is_bool = false;
  };
  std::string usage_;
  std::string summary_;
  std::vector<Flag> flags_;
  std::vector<std::string>* positional_ = nullptr;
  bool help_requested_ = false;
};

// Runs the parser and handles the common endings: prints help and returns 0
// on --help, prints "error: ..." plus the usage and returns 2 on a usage
// error; returns -1 when the command should go on.
int ParseOrExit(FlagParser& parser, const std::vector<std::string>& args);

}  // namespace crmhub::cli
