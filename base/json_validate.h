#pragma once
// IsValidJson: whether a text is one JSON document (RFC 8259), without
// building anything.
//
// The webhook intake checks every body it accepts. nlohmann's
// json::accept does that through its full lexer, appending each character
// of each token to a string: 5-6 % of the intake's CPU for a 512-byte body.
// This is a plain state machine with no allocation for documents nested up
// to 64 deep (a growable stack beyond that). It accepts exactly what
// nlohmann::json::accept accepts (tests/base/json_validate_test.cc checks
// that on a corpus and on a million mutated documents): the same grammar,
// strict UTF-8 (RFC 3629: no overlong forms, no surrogates, nothing above
// U+10FFFF), paired \u surrogate escapes, a leading UTF-8 byte order mark,
// no comments. One difference, on purpose: nlohmann's lexer takes a NUL
// byte for the end of the input and so accepts "1\0junk"; RFC 8259 does
// not, and neither does this.

#include <string_view>

namespace crmhub {

bool IsValidJson(std::string_view text);
// The same, and no array or object nested deeper than `max_depth` (what
// every door of outside data uses: base/json_get.h's kMaxJsonDepth).
bool IsValidJson(std::string_view text, int max_depth);

// Whether `text` is strict UTF-8 (RFC 3629, as above): what a JSON string
// may hold. For text that becomes JSON from elsewhere (form fields).
bool IsValidUtf8(std::string_view text);

}  // namespace crmhub
