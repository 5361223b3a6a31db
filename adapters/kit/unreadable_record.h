#pragma once
// UnreadableRecord: what a pull does with a record of an answer it cannot
// key (an id of the wrong type, a null where an object was, a number beyond
// int64): it queues it anyway, wrapped as
//
//   {"unreadable": <the record as sent>, "error": "<system>: <why>"}
//
// under the key "unreadable:<64-bit FNV-1a of that text, hex>" (stable
// across restarts, so a re-read is a duplicate). No rule maps it (it has
// none of the record's fields), so it becomes a dead letter that shows the
// record and the reason, and the pull goes on instead of failing the page
// forever or dropping the record unseen.
//
// Pure; thread-safe.

#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "adapters/adapter.h"

namespace crmhub::adapters::kit {

InboundEvent UnreadableRecord(const nlohmann::json& record, std::string_view error,
                              std::string kind);

}  // namespace crmhub::adapters::kit
