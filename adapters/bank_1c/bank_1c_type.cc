// The bank-1c adapter's config keys (declared once) and factory.

#include <utility>

#include "adapters/bank_1c/bank_1c_adapter.h"

namespace crmhub::adapters::bank_1c {
namespace {

using config::Type;

struct Bank1cKeys : config::KeySet {
  config::Key<Type::kPath> inbox_dir = Declare<Type::kPath>(
      {.name = "inbox_dir",
       .description = "Folder watched for 1CClientBankExchange files (statements or payment "
                      "orders, CP1251, CP866 or UTF-8). Names starting with '.' are skipped: "
                      "copy a file in under such a name and rename it, or let settle_time pass.",
       .required = true});
  config::Key<Type::kPath> done_dir = Declare<Type::kPath>(
      {.name = "done_dir",
       .description = "Where imported files go, as <sha256 prefix>_<name>; a file with the "
                      "same bytes dropped again is recognised as imported.",
       .required = true});
  config::Key<Type::kPath> failed_dir = Declare<Type::kPath>(
      {.name = "failed_dir",
       .description = "Where refused files go (unreadable, truncated, balances that do not add "
                      "up, missing fields), each beside <name>.reason.txt listing the problems "
                      "with their line numbers. Nothing of a refused file is imported.",
       .required = true});
  config::Key<Type::kStringList> accounts = Declare<Type::kStringList>(
      {.name = "accounts",
       .default_value = "[]",
       .description = "The company's settlement accounts (20 digits). When set, a file about "
                      "any other account is refused. Empty: any account."});
  config::Key<Type::kDuration> poll_interval = Declare<Type::kDuration>(
      {.name = "poll_interval",
       .default_value = "\"10s\"",
       .description = "How often the inbox is looked at. One file is imported per look, "
                      "refused and repeated files are passed over at once."});
  config::Key<Type::kDuration> settle_time = Declare<Type::kDuration>(
      {.name = "settle_time",
       .default_value = "\"2s\"",
       .description = "A file modified more recently than this is left for the next look, so "
                      "that a copy still being written is not refused as truncated."});
};

Result<std::unique_ptr<Adapter>> Build(const config::Section& section,
                                       const AdapterContext& context) {
  const Bank1cKeys keys;
  Bank1cConfig c;
  c.id = section.id();
  c.inbox_dir = keys.inbox_dir.Get(section);
  c.done_dir = keys.done_dir.Get(section);
  c.failed_dir = keys.failed_dir.Get(section);
  c.accounts = keys.accounts.Get(section);
  c.poll_interval = keys.poll_interval.Get(section);
  c.settle_time = keys.settle_time.Get(section);
  if (c.inbox_dir == c.done_dir || c.inbox_dir == c.failed_dir || c.done_dir == c.failed_dir) {
    return keys.done_dir.ErrorAt(section, "inbox_dir, done_dir and failed_dir must differ");
  }
  if (context.clock == nullptr) return Status::Internal("bank-1c: no clock in the context");
  auto adapter = std::make_unique<Bank1cAdapter>(std::move(c), *context.clock, context.metrics);
  // check-config (no HTTP client) only validates; the daemon makes the folders.
  if (context.http != nullptr) {
    if (Status s = adapter->Prepare(); !s.ok()) return s;
  }
  return std::unique_ptr<Adapter>(std::move(adapter));
}

}  // namespace

AdapterType Type() {
  return {.schema = {.type = "bank-1c",
                     .description = "1CClientBankExchange files (bank statements and payment "
                                    "orders) from a watched folder and from uploads "
                                    "(POST /api/v1/adapters/<id>/files): every document once, "
                                    "every field kept, damaged files refused whole.",
                     .keys = Bank1cKeys().specs()},
          .factory = Build};
}

}  // namespace crmhub::adapters::bank_1c
