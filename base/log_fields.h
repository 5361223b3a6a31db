#pragma once
// Log lines with fields: what an operator filters on (adapter, lane, key,
// peer, check, reason) as separate fields rather than words inside the
// message.
//
// LogWithFields encodes the fields into the spdlog payload after a 0x1F
// (unit separator) as one JSON object; the sinks of SetupLogging (logging.h)
// decode it: the JSON format writes each field next to "msg", text and
// journald append ` key=value` pairs (quoted when the value has spaces,
// quotes or is empty). A payload without the separator is a plain message.
// Values are logged as given: never pass a secret (Secret formats as ***).

#include <spdlog/spdlog.h>

#include <initializer_list>
#include <string>
#include <string_view>
#include <utility>

namespace crmhub {

struct LogField {
  std::string_view key;
  std::string value;
};

// `msg` followed by the encoded fields (see above).
std::string EncodeLogFields(std::string_view msg, std::initializer_list<LogField> fields);

// Splits an encoded payload into the message and the fields' JSON object
// text ("" when there are none).
std::pair<std::string_view, std::string_view> SplitLogFields(std::string_view payload);

// The text form: "msg key=value key2=\"two words\"".
std::string RenderLogFieldsText(std::string_view payload);

inline void LogWithFields(spdlog::level::level_enum level, std::string_view msg,
                          std::initializer_list<LogField> fields) {
  if (!spdlog::should_log(level)) return;
  spdlog::log(level, "{}", EncodeLogFields(msg, fields));
}

}  // namespace crmhub
