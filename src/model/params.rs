//! Typed model parameters: declared in the header with a default, a minimum and a maximum, bound
//! into the SQL where it says `$name`, and overridable per run (`--param MODEL.NAME=VALUE`).
//!
//! `$as_of` is always bound: the date the data describes. Models measure horizons (overdue, idle
//! for a year) from it, never from the wall clock.

use chrono::NaiveDate;
use serde::Deserialize;

/// The parameter every model may use without declaring it.
pub const AS_OF: &str = "as_of";

/// Type of a parameter.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ParamType {
    /// 64-bit integer (counts, days, months).
    Int,
    /// Floating point (ratios, multipliers).
    Float,
    /// An amount in 元, exact to the fen.
    Money,
    /// A date (YYYY-MM-DD).
    Date,
    /// Text.
    Text,
    /// true / false.
    Bool,
}

impl ParamType {
    /// Lower-case name.
    pub fn name(self) -> &'static str {
        match self {
            ParamType::Int => "int",
            ParamType::Float => "float",
            ParamType::Money => "money",
            ParamType::Date => "date",
            ParamType::Text => "text",
            ParamType::Bool => "bool",
        }
    }
}

/// A declared parameter.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ParamSpec {
    /// Its type.
    #[serde(rename = "type")]
    pub kind: ParamType,
    /// Default value.
    pub default: toml::Value,
    /// Smallest allowed value (numbers and dates).
    #[serde(default)]
    pub min: Option<toml::Value>,
    /// Largest allowed value (numbers and dates).
    #[serde(default)]
    pub max: Option<toml::Value>,
    /// What it means, in the analyst's words.
    #[serde(default)]
    pub doc: String,
}

/// A parameter value.
#[derive(Debug, Clone, PartialEq)]
pub enum ParamValue {
    /// int
    Int(i64),
    /// float
    Float(f64),
    /// money, in fen (1/100 元)
    Money(i128),
    /// date
    Date(NaiveDate),
    /// text
    Text(String),
    /// bool
    Bool(bool),
}

impl std::fmt::Display for ParamValue {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ParamValue::Int(v) => write!(f, "{v}"),
            ParamValue::Float(v) => write!(f, "{v}"),
            ParamValue::Money(c) => {
                let sign = if *c < 0 { "-" } else { "" };
                write!(f, "{sign}{}.{:02}", c.abs() / 100, c.abs() % 100)
            }
            ParamValue::Date(d) => write!(f, "{d}"),
            ParamValue::Text(s) => write!(f, "{s}"),
            ParamValue::Bool(b) => write!(f, "{b}"),
        }
    }
}

impl ParamValue {
    fn order(&self, other: &ParamValue) -> Option<std::cmp::Ordering> {
        match (self, other) {
            (ParamValue::Int(a), ParamValue::Int(b)) => Some(a.cmp(b)),
            (ParamValue::Float(a), ParamValue::Float(b)) => a.partial_cmp(b),
            (ParamValue::Money(a), ParamValue::Money(b)) => Some(a.cmp(b)),
            (ParamValue::Date(a), ParamValue::Date(b)) => Some(a.cmp(b)),
            _ => None,
        }
    }
}

/// Reads a header value (`default`, `min`, `max`) as the declared type.
pub fn from_toml(kind: ParamType, v: &toml::Value) -> Result<ParamValue, String> {
    let wrong = || format!("expected a {} value, found `{v}`", kind.name());
    match (kind, v) {
        (ParamType::Int, toml::Value::Integer(i)) => Ok(ParamValue::Int(*i)),
        (ParamType::Float, toml::Value::Float(x)) => Ok(ParamValue::Float(*x)),
        (ParamType::Float, toml::Value::Integer(i)) => Ok(ParamValue::Float(*i as f64)),
        (ParamType::Money, toml::Value::Integer(i)) => Ok(ParamValue::Money(*i as i128 * 100)),
        (ParamType::Money, toml::Value::Float(x)) => parse(kind, &x.to_string()),
        (ParamType::Money, toml::Value::String(s)) => parse(kind, s),
        (ParamType::Date, toml::Value::Datetime(d)) => parse(kind, &d.to_string()),
        (ParamType::Date, toml::Value::String(s)) => parse(kind, s),
        (ParamType::Text, toml::Value::String(s)) => Ok(ParamValue::Text(s.clone())),
        (ParamType::Bool, toml::Value::Boolean(b)) => Ok(ParamValue::Bool(*b)),
        _ => Err(wrong()),
    }
}

/// Parses a value given on the command line or in a model test.
pub fn parse(kind: ParamType, s: &str) -> Result<ParamValue, String> {
    let t = s.trim();
    let bad = || format!("`{s}` is not a valid {} value", kind.name());
    match kind {
        ParamType::Int => t.replace('_', "").parse().map(ParamValue::Int).map_err(|_| bad()),
        ParamType::Float => t.parse().map(ParamValue::Float).map_err(|_| bad()),
        ParamType::Money => crate::connector::value::parse_decimal(t)
            .and_then(|(digits, scale)| crate::connector::value::to_cents(digits, scale, (1, 1)))
            .map(ParamValue::Money)
            .ok_or_else(bad),
        ParamType::Date => NaiveDate::parse_from_str(t, "%Y-%m-%d").map(ParamValue::Date).map_err(|_| bad()),
        ParamType::Text => Ok(ParamValue::Text(s.to_string())),
        ParamType::Bool => match t {
            "true" | "是" | "1" => Ok(ParamValue::Bool(true)),
            "false" | "否" | "0" => Ok(ParamValue::Bool(false)),
            _ => Err(bad()),
        },
    }
}

impl ParamSpec {
    /// The default, checked against the range.
    pub fn default_value(&self) -> Result<ParamValue, String> {
        let v = from_toml(self.kind, &self.default).map_err(|e| format!("default: {e}"))?;
        self.check(&v)?;
        Ok(v)
    }

    /// Checks a value against `min` and `max`.
    pub fn check(&self, v: &ParamValue) -> Result<(), String> {
        for (bound, is_min) in [(&self.min, true), (&self.max, false)] {
            let Some(b) = bound else { continue };
            let b = from_toml(self.kind, b).map_err(|e| format!("{}: {e}", if is_min { "min" } else { "max" }))?;
            let ord = v.order(&b).ok_or_else(|| format!("`min`/`max` do not apply to {} values", self.kind.name()))?;
            if is_min && ord == std::cmp::Ordering::Less {
                return Err(format!("{v} is below the minimum {b}"));
            }
            if !is_min && ord == std::cmp::Ordering::Greater {
                return Err(format!("{v} is above the maximum {b}"));
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(kind: ParamType, default: toml::Value, min: Option<toml::Value>, max: Option<toml::Value>) -> ParamSpec {
        ParamSpec { kind, default, min, max, doc: String::new() }
    }

    #[test]
    fn values_parse_by_type_and_respect_the_range() {
        let days = spec(ParamType::Int, 31.into(), Some(0.into()), Some(92.into()));
        assert_eq!(days.default_value().unwrap(), ParamValue::Int(31));
        assert!(days.check(&ParamValue::Int(93)).unwrap_err().contains("above the maximum 92"));
        assert!(days.check(&ParamValue::Int(-1)).unwrap_err().contains("below the minimum 0"));
        assert_eq!(parse(ParamType::Money, "2000000").unwrap(), ParamValue::Money(200_000_000));
        assert_eq!(parse(ParamType::Money, "1.5").unwrap().to_string(), "1.50");
        assert_eq!(
            parse(ParamType::Date, "2025-12-31").unwrap(),
            ParamValue::Date(NaiveDate::from_ymd_opt(2025, 12, 31).unwrap())
        );
        assert!(parse(ParamType::Int, "abc").is_err());
        let ratio = spec(ParamType::Float, 0.3.into(), Some(0.into()), Some(1.into()));
        assert_eq!(ratio.default_value().unwrap(), ParamValue::Float(0.3));
        let bad_default = spec(ParamType::Int, 100.into(), None, Some(10.into()));
        assert!(bad_default.default_value().is_err());
    }
}
