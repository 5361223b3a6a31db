#pragma once
// Declarative mapping rules: raw record (JSON) → canonical entities.
// The rule file format is docs/mapping.md; the model is docs/model.md.
//
// Thread-safety: a RuleSet is immutable once loaded; Apply may be called from
// any number of threads at once. Copies share the compiled rules (cheap).

#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "base/status.h"
#include "mapping/model/entity.h"

namespace crmhub::mapping {

// Tables the caller provides for `lookup = "name"` specs whose name is not a
// static [lookups.name] table of the rules file (e.g. SKU → product from the
// CRM store). Called concurrently from delivery workers: must be thread-safe.
class Lookup {
 public:
  virtual ~Lookup() = default;
  // The value stored under `key` in `table`; std::nullopt when there is none.
  // A non-OK Status (e.g. the store is unavailable) fails the record.
  virtual Result<std::optional<nlohmann::json>> Find(std::string_view table,
                                                     std::string_view key) const = 0;
};

// A Lookup backed by a callable (tests, small static setups).
class FunctionLookup final : public Lookup {
 public:
  using Fn = std::function<Result<std::optional<nlohmann::json>>(std::string_view table,
                                                                 std::string_view key)>;
  explicit FunctionLookup(Fn fn) : fn_(std::move(fn)) {}
  Result<std::optional<nlohmann::json>> Find(std::string_view table,
                                             std::string_view key) const override {
    return fn_(table, key);
  }

 private:
  Fn fn_;
};

struct ApplyContext {
  std::string_view source;         // the adapter id; becomes Entity::source
  const Lookup* lookup = nullptr;  // may be null when the rules need none
  int64_t received_ms = 0;         // when the hub received the record (default version)
};

namespace internal {
struct CompiledRules;
}

class RuleSet {
 public:
  // Maps one record. An empty vector is success (the record was skipped, or
  // no entity rule's condition held). Errors are InvalidArgument with a
  // self-contained message naming the rule, field, record path and value.
  Result<std::vector<model::Entity>> Apply(const nlohmann::json& record,
                                           const ApplyContext& ctx) const;
  // The same for raw payload text; malformed JSON is a mapping error
  // ("record: malformed JSON: ...").
  Result<std::vector<model::Entity>> ApplyText(std::string_view payload,
                                               const ApplyContext& ctx) const;

  // The `name` key of the file (or its file name).
  const std::string& name() const;
  // Lookup tables the rules use that the file does not define: the caller's
  // Lookup must answer them.
  std::vector<std::string> ExternalLookups() const;

 private:
  friend Result<RuleSet> ParseRules(std::string_view, std::string_view);
  explicit RuleSet(std::shared_ptr<const internal::CompiledRules> rules)
      : rules_(std::move(rules)) {}
  std::shared_ptr<const internal::CompiledRules> rules_;
};

// Reads and compiles a rules file. InvalidArgument names the file, the rule
// and the key on any error (unknown keys, unknown kinds/fields/transforms,
// undefined maps, malformed JSON pointers, TOML syntax).
Result<RuleSet> LoadRules(const std::filesystem::path& path);
// The same from text; `origin` names it in errors.
Result<RuleSet> ParseRules(std::string_view toml_text, std::string_view origin);

}  // namespace crmhub::mapping
