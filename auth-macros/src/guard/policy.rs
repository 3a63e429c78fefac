//! The policy expression language of `#[require_policy("...")]`, parsed when the handler
//! compiles. Hand-written, because the expression is not meta syntax (STYLE rule 7).
//!
//! ```text
//! expr    := and ("||" and)*
//! and     := unary ("&&" unary)*
//! unary   := "!" unary | "(" expr ")" | call | compare
//! call    := ("has_role" | "has_permission") "(" string ")" | "authenticated" "(" ")"
//! compare := operand ("==" | "!=") operand
//! operand := "user.id" | "user.tenant" | "path." ident | "query." ident | string
//! ```

use proc_macro2::TokenStream;
use quote::quote;

/// A parsed expression.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Expr {
    Or(Box<Expr>, Box<Expr>),
    And(Box<Expr>, Box<Expr>),
    Not(Box<Expr>),
    HasRole(String),
    HasPermission(String),
    Authenticated,
    Compare {
        equal: bool,
        lhs: Operand,
        rhs: Operand,
    },
}

/// A value in a comparison.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Operand {
    UserId,
    UserTenant,
    Path(String),
    Query(String),
    Str(String),
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Token {
    Ident(String),
    Str(String),
    LParen,
    RParen,
    Dot,
    And,
    Or,
    Not,
    Eq,
    Ne,
}

/// A syntax or name error, with the character offset where it was found.
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct PolicyError {
    pub(crate) offset: usize,
    pub(crate) message: String,
}

fn error<T>(offset: usize, message: impl Into<String>) -> Result<T, PolicyError> {
    Err(PolicyError {
        offset,
        message: message.into(),
    })
}

fn tokenize(source: &str) -> Result<Vec<(usize, Token)>, PolicyError> {
    let chars: Vec<char> = source.chars().collect();
    let mut tokens = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        let two = |next: char| chars.get(i + 1) == Some(&next);
        let (token, len) = match c {
            c if c.is_whitespace() => {
                i += 1;
                continue;
            }
            '(' => (Token::LParen, 1),
            ')' => (Token::RParen, 1),
            '.' => (Token::Dot, 1),
            '&' if two('&') => (Token::And, 2),
            '|' if two('|') => (Token::Or, 2),
            '=' if two('=') => (Token::Eq, 2),
            '!' if two('=') => (Token::Ne, 2),
            '!' => (Token::Not, 1),
            '"' | '\'' => {
                let end = chars[i + 1..]
                    .iter()
                    .position(|&d| d == c)
                    .map(|p| i + 1 + p);
                let Some(end) = end else {
                    return error(i, "unterminated string");
                };
                (Token::Str(chars[i + 1..end].iter().collect()), end + 1 - i)
            }
            c if c.is_ascii_alphabetic() || c == '_' => {
                let len = chars[i..]
                    .iter()
                    .take_while(|d| d.is_ascii_alphanumeric() || **d == '_')
                    .count();
                (Token::Ident(chars[i..i + len].iter().collect()), len)
            }
            other => {
                return error(
                    i,
                    format!("unexpected `{other}`; use `&&`, `||`, `!`, `==`, `!=`, `(`, `)`"),
                )
            }
        };
        tokens.push((i, token));
        i += len;
    }
    Ok(tokens)
}

struct Parser {
    tokens: Vec<(usize, Token)>,
    pos: usize,
    end: usize,
}

impl Parser {
    fn peek(&self) -> Option<&Token> {
        self.tokens.get(self.pos).map(|(_, t)| t)
    }

    fn offset(&self) -> usize {
        self.tokens.get(self.pos).map_or(self.end, |(o, _)| *o)
    }

    fn next(&mut self) -> Option<Token> {
        let token = self.tokens.get(self.pos).map(|(_, t)| t.clone());
        self.pos += 1;
        token
    }

    fn expect(&mut self, expected: &Token, what: &str) -> Result<(), PolicyError> {
        let offset = self.offset();
        match self.next() {
            Some(ref t) if t == expected => Ok(()),
            _ => error(offset, format!("expected {what}")),
        }
    }

    fn expr(&mut self) -> Result<Expr, PolicyError> {
        let mut lhs = self.and()?;
        while self.peek() == Some(&Token::Or) {
            self.pos += 1;
            lhs = Expr::Or(Box::new(lhs), Box::new(self.and()?));
        }
        Ok(lhs)
    }

    fn and(&mut self) -> Result<Expr, PolicyError> {
        let mut lhs = self.unary()?;
        while self.peek() == Some(&Token::And) {
            self.pos += 1;
            lhs = Expr::And(Box::new(lhs), Box::new(self.unary()?));
        }
        Ok(lhs)
    }

    fn unary(&mut self) -> Result<Expr, PolicyError> {
        let offset = self.offset();
        match self.peek() {
            Some(Token::Not) => {
                self.pos += 1;
                Ok(Expr::Not(Box::new(self.unary()?)))
            }
            Some(Token::LParen) => {
                self.pos += 1;
                let inner = self.expr()?;
                self.expect(&Token::RParen, "`)`")?;
                Ok(inner)
            }
            Some(Token::Ident(name))
                if self.tokens.get(self.pos + 1).map(|(_, t)| t) == Some(&Token::LParen) =>
            {
                let name = name.clone();
                self.pos += 2;
                let call = match name.as_str() {
                    "authenticated" => Expr::Authenticated,
                    "has_role" | "has_permission" => {
                        let arg_offset = self.offset();
                        let Some(Token::Str(arg)) = self.next() else {
                            return error(arg_offset, format!("`{name}` takes a string, e.g. `{name}(\"admin\")`"));
                        };
                        if name == "has_role" { Expr::HasRole(arg) } else { Expr::HasPermission(arg) }
                    }
                    other => {
                        return error(offset, format!("unknown function `{other}`; use `has_role`, `has_permission` or `authenticated`"))
                    }
                };
                self.expect(&Token::RParen, "`)`")?;
                Ok(call)
            }
            _ => {
                let lhs = self.operand()?;
                let op_offset = self.offset();
                let equal = match self.next() {
                    Some(Token::Eq) => true,
                    Some(Token::Ne) => false,
                    _ => return error(op_offset, "expected `==` or `!=` after a value"),
                };
                let rhs = self.operand()?;
                Ok(Expr::Compare { equal, lhs, rhs })
            }
        }
    }

    fn operand(&mut self) -> Result<Operand, PolicyError> {
        let offset = self.offset();
        match self.next() {
            Some(Token::Str(s)) => Ok(Operand::Str(s)),
            Some(Token::Ident(scope)) => {
                self.expect(&Token::Dot, &format!("`.` after `{scope}`"))?;
                let field_offset = self.offset();
                let Some(Token::Ident(field)) = self.next() else { return error(field_offset, "expected a field name") };
                match (scope.as_str(), field.as_str()) {
                    ("user", "id") => Ok(Operand::UserId),
                    ("user", "tenant") => Ok(Operand::UserTenant),
                    ("user", other) => error(field_offset, format!("unknown field `user.{other}`; use `user.id` or `user.tenant`")),
                    ("path", _) => Ok(Operand::Path(field)),
                    ("query", _) => Ok(Operand::Query(field)),
                    (other, _) => error(offset, format!("unknown identifier `{other}`; use `user`, `path` or `query`")),
                }
            }
            _ => error(offset, "expected a value: `user.id`, `user.tenant`, `path.<name>`, `query.<name>` or a string"),
        }
    }
}

/// Parses a policy expression.
pub(crate) fn parse(source: &str) -> Result<Expr, PolicyError> {
    let tokens = tokenize(source)?;
    let mut parser = Parser {
        tokens,
        pos: 0,
        end: source.chars().count(),
    };
    if parser.peek().is_none() {
        return error(0, "the policy is empty");
    }
    let expr = parser.expr()?;
    if parser.peek().is_some() {
        return error(
            parser.offset(),
            "unexpected text after the expression; join conditions with `&&` or `||`",
        );
    }
    Ok(expr)
}

/// The query parameters `expr` reads, each once, in order of first use.
pub(crate) fn query_params(expr: &Expr) -> Vec<&str> {
    fn walk<'e>(expr: &'e Expr, out: &mut Vec<&'e str>) {
        match expr {
            Expr::Or(a, b) | Expr::And(a, b) => {
                walk(a, out);
                walk(b, out);
            }
            Expr::Not(a) => walk(a, out),
            Expr::Compare { lhs, rhs, .. } => {
                for operand in [lhs, rhs] {
                    if let Operand::Query(name) = operand {
                        if !out.contains(&name.as_str()) {
                            out.push(name);
                        }
                    }
                }
            }
            Expr::HasRole(_) | Expr::HasPermission(_) | Expr::Authenticated => {}
        }
    }
    let mut out = Vec::new();
    walk(expr, &mut out);
    out
}

fn operand(op: &Operand) -> TokenStream {
    match op {
        Operand::UserId => quote!(ctx.user_id()),
        Operand::UserTenant => quote!(ctx.tenant()),
        Operand::Path(name) => quote!(ctx.path(#name)),
        Operand::Query(name) => quote!(ctx.query(#name)),
        Operand::Str(s) => quote!(::core::option::Option::Some(#s)),
    }
}

/// The Rust expression evaluating `expr` over `ctx: &PolicyContext`.
pub(crate) fn codegen(expr: &Expr, support: &TokenStream) -> TokenStream {
    match expr {
        Expr::Or(a, b) => {
            let (a, b) = (codegen(a, support), codegen(b, support));
            quote!((#a || #b))
        }
        Expr::And(a, b) => {
            let (a, b) = (codegen(a, support), codegen(b, support));
            quote!((#a && #b))
        }
        Expr::Not(a) => {
            let a = codegen(a, support);
            quote!((!#a))
        }
        Expr::HasRole(role) => quote!(ctx.has_role(#role)),
        Expr::HasPermission(permission) => quote!(ctx.has_permission(#permission)),
        Expr::Authenticated => quote!(true),
        Expr::Compare { equal, lhs, rhs } => {
            let (lhs, rhs) = (operand(lhs), operand(rhs));
            if *equal {
                quote!(#support::policy_eq(#lhs, #rhs))
            } else {
                quote!(#support::policy_ne(#lhs, #rhs))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_query_parameters_a_policy_reads_are_listed_once() {
        let expr = parse(
            r#"query.owner == user.id || (query.team != "x" && !(query.owner == path.id)) || has_role("a")"#,
        )
        .unwrap();
        assert_eq!(query_params(&expr), ["owner", "team"]);
        assert!(query_params(&parse("user.id == path.id").unwrap()).is_empty());
    }

    #[test]
    fn parses_the_issue_example() {
        let expr = parse(r#"has_role("admin") || (has_permission("articles.write") && user.id == path.owner_id)"#).unwrap();
        assert_eq!(
            expr,
            Expr::Or(
                Box::new(Expr::HasRole("admin".into())),
                Box::new(Expr::And(
                    Box::new(Expr::HasPermission("articles.write".into())),
                    Box::new(Expr::Compare {
                        equal: true,
                        lhs: Operand::UserId,
                        rhs: Operand::Path("owner_id".into())
                    }),
                )),
            )
        );
    }

    #[test]
    fn reports_errors_with_their_offset() {
        let cases = [
            ("", 0, "the policy is empty"),
            ("has_rol(\"a\")", 0, "unknown function `has_rol`"),
            ("user.name == \"x\"", 5, "unknown field `user.name`"),
            ("owner.id == user.id", 0, "unknown identifier `owner`"),
            (
                "has_role(\"a\") has_role(\"b\")",
                14,
                "unexpected text after the expression",
            ),
            ("(has_role(\"a\")", 14, "expected `)`"),
            ("has_role(admin)", 9, "`has_role` takes a string"),
            ("user.id = path.id", 8, "unexpected `=`"),
            ("\"open", 0, "unterminated string"),
        ];
        for (source, offset, start) in cases {
            let err = parse(source).unwrap_err();
            assert_eq!(err.offset, offset, "{source}: {err:?}");
            assert!(err.message.starts_with(start), "{source}: {}", err.message);
        }
    }
}
