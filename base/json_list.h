#pragma once
// SplitJsonList: the objects of a list answer as the text they were sent as.
//
// A pull reads pages of up to a thousand records and queues each record's
// JSON as the event's payload. Parsing the page into a nlohmann tree, then
// dumping every record back to text and freeing the tree, was most of a
// pull's CPU (Ozon: a 1.2 MB page per request). This reads the page once,
// with nlohmann's SAX parser (so every byte is validated exactly as
// json::parse would), builds no tree, and hands back each record's own
// bytes plus the few members the caller keys it by.

#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"

namespace crmhub {

struct JsonListElement {
  // The element's JSON text, a view into the document. Objects only; other
  // elements (a number, a string, null) have empty text.
  std::string_view text;
  // The values of the keys asked for, in their order, from the element's
  // top level: strings as they are, integers in decimal; "" when absent,
  // of another type, or when the element is not an object.
  std::vector<std::string> fields;
};

struct JsonList {
  bool found = false;  // the array was at the path
  std::vector<JsonListElement> elements;
  // Booleans, strings and integers beside the array in its parent object
  // (Ozon's "has_next"), as text: "true", "false", "7", ...
  std::vector<std::pair<std::string, std::string>> siblings;

  // The sibling's text, or "" when absent.
  std::string_view Sibling(std::string_view key) const;
};

// `path` names object members from the root ({"result", "postings"}); an
// empty path is the root itself. InvalidArgument (with nlohmann's message)
// when the document is not valid JSON. found == false when the path does
// not lead to an array.
Result<JsonList> SplitJsonList(std::string_view document, std::span<const std::string_view> path,
                               std::span<const std::string_view> keys);

}  // namespace crmhub
