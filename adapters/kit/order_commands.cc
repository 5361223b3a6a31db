#include "adapters/kit/order_commands.h"

#include <fmt/format.h>

#include "adapters/kit/command_fields.h"
#include "base/json_get.h"

namespace crmhub::adapters::kit {

Result<std::string> OrderKey(const nlohmann::json& item) {
  const nlohmann::json* value = JsonMember(item, "order_id");
  if (value != nullptr && value->is_number_integer()) {
    const std::optional<int64_t> id = AsInt(*value);
    if (id && *id > 0) return std::to_string(*id);
  } else if (value != nullptr && value->is_string()) {
    Result<std::string> text = TrimmedText(item, "order_id", 64);
    if (!text.ok()) return text.status();
    if (const std::optional<int64_t> id = ParseDecimalInt(*text)) {
      if (*id > 0) return std::to_string(*id);
    } else {
      return text;
    }
  }
  return Status::InvalidArgument("order_id must be an order id (an integer > 0 or text), got " +
                                 QuoteMember(item, "order_id"));
}

DeliveryOutcome RefusedTransition(std::string_view system, std::string_view command,
                                  std::string_view order_id, std::string_view refusal,
                                  std::string_view now, std::string_view read_error) {
  return DeliveryOutcome::Fail(
      now.empty() ? fmt::format("{}: {} order {}: refused: {}; its status could not be re-read: {}",
                                system, command, order_id, refusal, read_error)
                  : fmt::format("{}: {} order {}: refused: {}; the order is now {}", system,
                                command, order_id, refusal, now));
}

}  // namespace crmhub::adapters::kit
