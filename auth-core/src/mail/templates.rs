//! The messages the flows send, as minijinja templates a service can override: a file named
//! like a built-in one (`reset_password.txt`, `verify_email.subject`, ...) in the folder
//! `AUTH__MAIL__TEMPLATES` replaces it. Each message is `<name>.subject`, `<name>.txt` and,
//! when present, `<name>.html` (auto-escaped). A variable a template names but the message
//! does not have is an error at start-up, not an empty string in a mail.

use std::path::Path;

use minijinja::{Environment, UndefinedBehavior, Value};

use super::Mail;

/// One built-in message: its name, the variables it is given, and its three parts.
struct Builtin {
    name: &'static str,
    variables: &'static [&'static str],
    subject: &'static str,
    text: &'static str,
    html: &'static str,
}

/// The built-in message `name`, its parts read from `templates/<name>.{subject,txt,html}`.
macro_rules! builtin {
    ($name:literal, [$($variable:literal),* $(,)?]) => {
        Builtin {
            name: $name,
            variables: &[$($variable),*],
            subject: include_str!(concat!("templates/", $name, ".subject")),
            text: include_str!(concat!("templates/", $name, ".txt")),
            html: include_str!(concat!("templates/", $name, ".html")),
        }
    };
}

const BUILTINS: &[Builtin] = &[
    builtin!("reset_password", ["username", "link", "token", "minutes"]),
    builtin!("password_changed", ["username", "ended"]),
    builtin!("verify_email", ["username", "link", "token", "hours"]),
    builtin!("change_email", ["username", "link", "token", "hours"]),
    builtin!("email_change_requested", ["username", "new_email"]),
    builtin!("email_changed", ["username", "new_email"]),
    builtin!("login_locked", ["username", "client_ip", "minutes"]),
];

/// Why the templates could not be loaded or rendered.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum TemplateError {
    /// An override could not be read.
    #[error("mail template `{file}`: {source}")]
    Read {
        /// The file.
        file: String,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// A template does not parse or renders with an error (an unknown variable, say).
    #[error("mail template `{name}`: {reason}")]
    Template {
        /// The template.
        name: String,
        /// What is wrong.
        reason: String,
    },
}

/// The mail templates: the built-in ones, with a service's overrides.
#[derive(Debug)]
pub struct Templates {
    env: Environment<'static>,
}

impl Default for Templates {
    fn default() -> Self {
        Self::builtin()
    }
}

impl Templates {
    /// The built-in templates.
    #[must_use]
    pub fn builtin() -> Self {
        let mut env = Environment::new();
        env.set_undefined_behavior(UndefinedBehavior::Strict);
        for builtin in BUILTINS {
            let parts = [
                ("subject", builtin.subject),
                ("txt", builtin.text),
                ("html", builtin.html),
            ];
            for (part, source) in parts {
                // The built-ins are checked by the tests below; a broken one is a bug.
                if let Err(e) =
                    env.add_template_owned(format!("{}.{part}", builtin.name), source.to_owned())
                {
                    tracing::error!(error = %e, "a built-in mail template does not parse");
                }
            }
        }
        Self { env }
    }

    /// The built-in templates with the overrides found in `dir` (files named like the
    /// built-ins; other files are ignored), each checked by rendering it once.
    ///
    /// # Errors
    /// [`TemplateError`] naming the file that cannot be read, parsed or rendered.
    pub fn with_overrides(dir: &Path) -> Result<Self, TemplateError> {
        let mut templates = Self::builtin();
        for builtin in BUILTINS {
            for part in ["subject", "txt", "html"] {
                let name = format!("{}.{part}", builtin.name);
                let path = dir.join(&name);
                let source = match std::fs::read_to_string(&path) {
                    Ok(source) => source,
                    Err(e) if e.kind() == std::io::ErrorKind::NotFound => continue,
                    Err(source) => {
                        return Err(TemplateError::Read {
                            file: path.display().to_string(),
                            source,
                        })
                    }
                };
                templates
                    .env
                    .add_template_owned(name.clone(), source)
                    .map_err(|e| TemplateError::Template {
                        name: name.clone(),
                        reason: e.to_string(),
                    })?;
            }
        }
        templates.check()?;
        Ok(templates)
    }

    /// Renders every template once with sample values of its variables.
    fn check(&self) -> Result<(), TemplateError> {
        for builtin in BUILTINS {
            let sample: std::collections::BTreeMap<&str, &str> =
                builtin.variables.iter().map(|v| (*v, "x")).collect();
            self.render(
                "nobody@example.com",
                builtin.name,
                Value::from_serialize(&sample),
            )?;
        }
        Ok(())
    }

    /// The message `name` to `to`, rendered with `context`.
    ///
    /// # Errors
    /// [`TemplateError::Template`] when a part does not render.
    pub fn render(&self, to: &str, name: &str, context: Value) -> Result<Mail, TemplateError> {
        let part = |part: &str| -> Result<Option<String>, TemplateError> {
            let full = format!("{name}.{part}");
            match self.env.get_template(&full) {
                Ok(template) => {
                    template
                        .render(&context)
                        .map(Some)
                        .map_err(|e| TemplateError::Template {
                            name: full,
                            reason: e.to_string(),
                        })
                }
                Err(_) => Ok(None),
            }
        };
        let subject = part("subject")?.unwrap_or_default();
        let text = part("txt")?.unwrap_or_default();
        // Mail wants CRLF line ends; templates are written with LF.
        let crlf = |s: String| s.replace("\r\n", "\n").replace('\n', "\r\n");
        let mut mail = Mail::new(to, subject.trim(), crlf(text));
        if let Some(html) = part("html")? {
            mail = mail.with_html(html);
        }
        Ok(mail)
    }
}

#[cfg(test)]
mod tests {
    use minijinja::context;

    use super::{Templates, BUILTINS};

    #[test]
    fn every_built_in_renders_with_its_variables() {
        let templates = Templates::builtin();
        templates.check().unwrap();
        for builtin in BUILTINS {
            let mail = templates
                .render(
                    "ada@example.com",
                    builtin.name,
                    minijinja::Value::from_serialize(
                        builtin
                            .variables
                            .iter()
                            .map(|v| (*v, "x"))
                            .collect::<std::collections::BTreeMap<_, _>>(),
                    ),
                )
                .unwrap();
            assert!(
                !mail.subject.is_empty() && !mail.text.is_empty(),
                "{}",
                builtin.name
            );
            assert!(
                mail.html
                    .as_deref()
                    .is_some_and(|html| html.contains("<p>")),
                "{}: every built-in message has an HTML part",
                builtin.name
            );
        }
    }

    #[test]
    fn html_parts_escape_what_they_are_given() {
        let mail = Templates::builtin()
            .render(
                "ada@example.com",
                "reset_password",
                context! { username => "<b>ada</b>", link => "https://x/?a=1&b=2", token => "t", minutes => 30 },
            )
            .unwrap();
        let html = mail.html.unwrap();
        assert!(
            html.contains("&lt;b&gt;ada&lt;&#x2f;b&gt;") || html.contains("&lt;b&gt;ada&lt;/b&gt;"),
            "{html}"
        );
        assert!(mail.text.contains("`<b>ada</b>`"), "the text part as given");
        assert!(mail.text.contains("\r\n"), "CRLF line ends");
    }

    #[test]
    fn overrides_replace_built_ins_and_unknown_variables_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join("reset_password.subject"),
            "Ton mot de passe",
        )
        .unwrap();
        let templates = Templates::with_overrides(dir.path()).unwrap();
        let mail = templates
            .render(
                "ada@example.com",
                "reset_password",
                context! { username => "ada", link => "l", token => "t", minutes => 30 },
            )
            .unwrap();
        assert_eq!(mail.subject, "Ton mot de passe");
        assert!(
            mail.text.contains("Token: t"),
            "the other parts stay built-in"
        );

        std::fs::write(dir.path().join("verify_email.txt"), "Hi {{ usernme }}").unwrap();
        let err = Templates::with_overrides(dir.path()).unwrap_err();
        assert!(err.to_string().contains("verify_email.txt"), "{err}");
        std::fs::write(dir.path().join("verify_email.txt"), "Hi {{ username").unwrap();
        let err = Templates::with_overrides(dir.path()).unwrap_err();
        assert!(err.to_string().contains("verify_email.txt"), "{err}");
    }
}
