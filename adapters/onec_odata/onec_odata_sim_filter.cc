// The simulator's $filter: OData v3 comparisons joined by and/or
// (onec_odata_sim.h). Its own reading of the syntax, apart from the
// adapter's.

#include <cctype>
#include <cstdlib>
#include <memory>
#include <optional>

#include "adapters/onec_odata/onec_odata_sim.h"
#include "base/json_get.h"

namespace crmhub::adapters::onec_odata {

struct ODataFilter::Node {
  enum class Type { kOr, kAnd, kCompare } type = Type::kCompare;
  std::vector<std::shared_ptr<const Node>> children;
  std::string field;
  std::string op;
  std::string literal;
  bool number = false;   // the literal is a number
  bool boolean = false;  // the literal is true or false
};

namespace {

using nlohmann::json;
using Node = ODataFilter::Node;

struct Token {
  enum class Kind { kWord, kLiteral, kOpen, kClose, kEnd } kind = Kind::kEnd;
  std::string text;
  bool number = false;
  bool boolean = false;
};

class Parser {
 public:
  explicit Parser(const std::string& s) : s_(s) {}

  Result<std::shared_ptr<const Node>> Expression() {
    auto left = Conjunction();
    if (!left.ok()) return left;
    auto node = std::make_shared<Node>();
    node->type = Node::Type::kOr;
    node->children.push_back(*left);
    while (Peek().kind == Token::Kind::kWord && Peek().text == "or") {
      Next();
      auto right = Conjunction();
      if (!right.ok()) return right;
      node->children.push_back(*right);
    }
    if (node->children.size() == 1) return node->children.front();
    return std::shared_ptr<const Node>(node);
  }

  bool AtEnd() { return Peek().kind == Token::Kind::kEnd; }

 private:
  Result<std::shared_ptr<const Node>> Conjunction() {
    auto left = Primary();
    if (!left.ok()) return left;
    auto node = std::make_shared<Node>();
    node->type = Node::Type::kAnd;
    node->children.push_back(*left);
    while (Peek().kind == Token::Kind::kWord && Peek().text == "and") {
      Next();
      auto right = Primary();
      if (!right.ok()) return right;
      node->children.push_back(*right);
    }
    if (node->children.size() == 1) return node->children.front();
    return std::shared_ptr<const Node>(node);
  }

  Result<std::shared_ptr<const Node>> Primary() {
    Token t = Next();
    if (t.kind == Token::Kind::kOpen) {
      auto inner = Expression();
      if (!inner.ok()) return inner;
      if (Next().kind != Token::Kind::kClose) return Status::InvalidArgument("')' expected");
      return inner;
    }
    if (t.kind != Token::Kind::kWord) return Status::InvalidArgument("a field name expected");
    Token op = Next();
    static const char* kOps[] = {"eq", "ne", "gt", "ge", "lt", "le"};
    bool known = false;
    for (const char* k : kOps) known = known || op.text == k;
    if (op.kind != Token::Kind::kWord || !known) {
      return Status::InvalidArgument("an operator (eq ne gt ge lt le) expected after " + t.text);
    }
    Token value = Next();
    if (value.kind != Token::Kind::kLiteral) {
      return Status::InvalidArgument("a literal expected after " + t.text + " " + op.text);
    }
    auto node = std::make_shared<Node>();
    node->field = t.text;
    node->op = op.text;
    node->literal = value.text;
    node->number = value.number;
    node->boolean = value.boolean;
    return std::shared_ptr<const Node>(node);
  }

  const Token& Peek() {
    if (!peeked_) peeked_ = Lex();
    return *peeked_;
  }
  Token Next() {
    Token t = Peek();
    peeked_.reset();
    return t;
  }

  Token Lex() {
    while (i_ < s_.size() && s_[i_] == ' ') ++i_;
    Token t;
    if (i_ >= s_.size()) return t;
    const char c = s_[i_];
    if (c == '(' || c == ')') {
      ++i_;
      t.kind = c == '(' ? Token::Kind::kOpen : Token::Kind::kClose;
      return t;
    }
    if (c == '\'') return Quoted();
    if (c == '-' || std::isdigit(static_cast<unsigned char>(c))) {
      size_t start = i_++;
      while (i_ < s_.size() && (std::isdigit(static_cast<unsigned char>(s_[i_])) || s_[i_] == '.'))
        ++i_;
      t.kind = Token::Kind::kLiteral;
      t.number = true;
      t.text = s_.substr(start, i_ - start);
      return t;
    }
    size_t start = i_;
    while (i_ < s_.size() && (std::isalnum(static_cast<unsigned char>(s_[i_])) || s_[i_] == '_' ||
                              static_cast<unsigned char>(s_[i_]) >= 0x80)) {
      ++i_;
    }
    if (i_ == start) {  // a character no token starts with
      t.kind = Token::Kind::kWord;
      t.text = std::string(1, s_[i_++]);
      return t;
    }
    t.text = s_.substr(start, i_ - start);
    if ((t.text == "guid" || t.text == "datetime") && i_ < s_.size() && s_[i_] == '\'') {
      return Quoted();
    }
    if (t.text == "true" || t.text == "false") {
      t.kind = Token::Kind::kLiteral;
      t.boolean = true;
      return t;
    }
    t.kind = Token::Kind::kWord;
    return t;
  }

  Token Quoted() {
    Token t;
    t.kind = Token::Kind::kLiteral;
    ++i_;  // the opening quote
    while (i_ < s_.size()) {
      if (s_[i_] == '\'') {
        if (i_ + 1 < s_.size() && s_[i_ + 1] == '\'') {
          t.text += '\'';
          i_ += 2;
          continue;
        }
        ++i_;
        return t;
      }
      t.text += s_[i_++];
    }
    t.kind = Token::Kind::kWord;  // unterminated: a parse error where it is used
    return t;
  }

  const std::string& s_;
  size_t i_ = 0;
  std::optional<Token> peeked_;
};

std::string Lower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

bool Compare(const Node& n, const json& row) {
  const json* value = JsonMember(row, n.field);
  if (value == nullptr || value->is_null()) return false;
  int cmp = 0;
  if (n.number) {
    std::optional<double> a = JsonNumber(row, n.field);
    if (!a) return false;
    const double b = std::strtod(n.literal.c_str(), nullptr);
    cmp = *a < b ? -1 : (*a > b ? 1 : 0);
  } else if (n.boolean) {
    std::optional<bool> a = JsonBool(row, n.field);
    if (!a) return false;
    cmp = (*a == (n.literal == "true")) ? 0 : 1;
  } else {
    std::optional<std::string_view> a = AsString(*value);
    if (!a) return false;
    const std::string x = Lower(std::string(*a));
    const std::string y = Lower(n.literal);
    cmp = x < y ? -1 : (x > y ? 1 : 0);
  }
  if (n.op == "eq") return cmp == 0;
  if (n.op == "ne") return cmp != 0;
  if (n.op == "gt") return cmp > 0;
  if (n.op == "ge") return cmp >= 0;
  if (n.op == "lt") return cmp < 0;
  return cmp <= 0;
}

bool Evaluate(const Node& n, const json& row) {
  switch (n.type) {
    case Node::Type::kOr:
      for (const auto& c : n.children) {
        if (Evaluate(*c, row)) return true;
      }
      return false;
    case Node::Type::kAnd:
      for (const auto& c : n.children) {
        if (!Evaluate(*c, row)) return false;
      }
      return true;
    case Node::Type::kCompare:
      return Compare(n, row);
  }
  return false;
}

}  // namespace

Result<ODataFilter> ODataFilter::Parse(const std::string& text) {
  ODataFilter f;
  Parser p(text);
  if (p.AtEnd()) return f;
  auto root = p.Expression();
  if (!root.ok()) return root.status();
  if (!p.AtEnd()) return Status::InvalidArgument("$filter: unexpected text after the expression");
  f.root_ = *root;
  return f;
}

bool ODataFilter::Matches(const json& row) const {
  return root_ == nullptr || Evaluate(*root_, row);
}

}  // namespace crmhub::adapters::onec_odata
