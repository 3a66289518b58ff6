//! The application's name and stage, from which constructs name what humans look for.

use std::fmt;

/// An application's name and one of its stages (`orders`, `dev`): constructs derive from it the
/// names people search for in the console and in Datadog — clusters and user pools
/// (`orders-dev`), log groups (`/aws/ecs/orders-dev`), secrets (`orders/dev/...`), tags.
///
/// A required input of every construct that names things, so a new app can never inherit
/// another's names by leaving a default in place. Checked once, when made: both parts are
/// lowercase letters, digits and inner `-`, starting with a letter (what every name and Datadog
/// tag built from them accepts); the app at most 32 characters, the stage at most 16.
///
/// ```
/// use pantri_constructs::naming::{Naming, NamingError};
///
/// let naming = Naming::new("orders", "dev")?;
/// assert_eq!(naming.prefix(), "orders-dev");
/// assert!(Naming::new("Orders", "dev").is_err());
/// # Ok::<(), NamingError>(())
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Naming {
    app: String,
    stage: String,
}

/// Why a [`Naming`] was refused.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum NamingError {
    /// The application name breaks the rule.
    #[error(
        "app name {0:?} is not a name: use 1 to 32 lowercase letters, digits and inner '-', \
         starting with a letter"
    )]
    App(String),
    /// The stage breaks the rule.
    #[error(
        "stage {0:?} is not a name: use 1 to 16 lowercase letters, digits and inner '-', \
         starting with a letter"
    )]
    Stage(String),
}

impl Naming {
    /// The naming of stage `stage` of application `app`, or why either is not a name.
    pub fn new(app: &str, stage: &str) -> Result<Naming, NamingError> {
        if !is_name(app, 32) {
            return Err(NamingError::App(app.to_owned()));
        }
        if !is_name(stage, 16) {
            return Err(NamingError::Stage(stage.to_owned()));
        }
        Ok(Naming {
            app: app.to_owned(),
            stage: stage.to_owned(),
        })
    }

    /// The application name (`orders`).
    pub fn app(&self) -> &str {
        &self.app
    }

    /// The stage (`dev`).
    pub fn stage(&self) -> &str {
        &self.stage
    }

    /// `<app>-<stage>` (`orders-dev`): the prefix of the names people search for.
    pub fn prefix(&self) -> String {
        self.to_string()
    }
}

impl fmt::Display for Naming {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}-{}", self.app, self.stage)
    }
}

/// Whether `s` is 1 to `max` lowercase letters, digits and inner `-`, starting with a letter.
fn is_name(s: &str, max: usize) -> bool {
    s.len() <= max
        && s.starts_with(|c: char| c.is_ascii_lowercase())
        && !s.ends_with('-')
        && s.chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_naming_is_checked_when_made() {
        let n = Naming::new("orders", "dev").expect("valid");
        assert_eq!(
            (n.app(), n.stage(), n.prefix()),
            ("orders", "dev", "orders-dev".to_owned())
        );
        assert_eq!(n.to_string(), "orders-dev");
        for bad in [
            "",
            "Orders",
            "1orders",
            "orders-",
            "or_ders",
            "orders app",
            &"a".repeat(33),
        ] {
            assert_eq!(
                Naming::new(bad, "dev"),
                Err(NamingError::App(bad.to_owned())),
                "{bad:?}"
            );
        }
        for bad in ["", "Dev", "-dev", "dev.1", &"s".repeat(17)] {
            assert_eq!(
                Naming::new("orders", bad),
                Err(NamingError::Stage(bad.to_owned())),
                "{bad:?}"
            );
        }
        assert!(Naming::new(&"a".repeat(32), &"s".repeat(16)).is_ok());
        assert!(Naming::new("a-1", "s0042").is_ok());
    }
}
