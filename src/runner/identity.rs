//! A clue's identity: a canonical, typed encoding of its model id and entity key, hashed.
//!
//! Each key value is written as a type tag, then (for non-NULL values) its canonical bytes
//! with their length in front, so NULL and `""` differ and no value — `|` included — can run
//! into its neighbour. Types that carry the same meaning encode alike: every integer width
//! (and a decimal with no fraction) as an integer, every string type as text, a timestamp at
//! midnight as its date. Floats have no stable text and are refused as entity columns
//! ([`entity_type_error`]). The encoding is versioned by its domain string; changing it
//! changes every clue id, which is why a golden test pins it.

use datafusion::arrow::array::{Array, ArrayRef, AsArray};
use datafusion::arrow::compute::cast;
use datafusion::arrow::datatypes::{DataType, Date32Type, TimeUnit};
use datafusion::error::DataFusionError;

/// One value of an entity key, in its canonical form.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum KeyValue {
    Null,
    Text(String),
    /// Every integer type, and decimals without a fraction.
    Int(i128),
    /// A decimal with a fraction: digits and scale, trailing zeros removed.
    Decimal(i128, u32),
    Bool(bool),
    Date(chrono::NaiveDate),
    /// A timestamp with a time of day, in microseconds since the epoch.
    Timestamp(i64),
}

impl From<&str> for KeyValue {
    fn from(s: &str) -> Self {
        KeyValue::Text(s.to_string())
    }
}

impl From<String> for KeyValue {
    fn from(s: String) -> Self {
        KeyValue::Text(s)
    }
}

impl KeyValue {
    fn tag(&self) -> u8 {
        match self {
            KeyValue::Null => b'N',
            KeyValue::Text(_) => b'S',
            KeyValue::Int(_) => b'I',
            KeyValue::Decimal(..) => b'D',
            KeyValue::Bool(_) => b'B',
            KeyValue::Date(_) => b'd',
            KeyValue::Timestamp(_) => b'T',
        }
    }

    fn body(&self) -> Option<Vec<u8>> {
        Some(match self {
            KeyValue::Null => return None,
            KeyValue::Text(s) => s.as_bytes().to_vec(),
            KeyValue::Int(i) => i.to_string().into_bytes(),
            KeyValue::Decimal(d, s) => format!("{d}e-{s}").into_bytes(),
            KeyValue::Bool(b) => vec![*b as u8],
            KeyValue::Date(d) => d.format("%Y-%m-%d").to_string().into_bytes(),
            KeyValue::Timestamp(us) => us.to_string().into_bytes(),
        })
    }
}

/// Domain string of the encoding: part of every hash, so a future encoding cannot collide.
const DOMAIN: &[u8] = b"searchlight.clue/v2";

/// The canonical bytes of a clue's identity.
pub fn encode(model_id: &str, key: &[KeyValue]) -> Vec<u8> {
    let mut out = Vec::with_capacity(64);
    out.extend_from_slice(DOMAIN);
    put(&mut out, model_id.as_bytes());
    out.extend_from_slice(&(key.len() as u32).to_be_bytes());
    for v in key {
        out.push(v.tag());
        if let Some(body) = v.body() {
            put(&mut out, &body);
        }
    }
    out
}

fn put(out: &mut Vec<u8>, bytes: &[u8]) {
    out.extend_from_slice(&(bytes.len() as u64).to_be_bytes());
    out.extend_from_slice(bytes);
}

/// A clue's id: `C` and the first 16 hex digits of the BLAKE3 hash of [`encode`].
pub fn clue_id<K: Into<KeyValue>>(model_id: &str, key: impl IntoIterator<Item = K>) -> String {
    let key: Vec<KeyValue> = key.into_iter().map(Into::into).collect();
    format!("C{}", &blake3::hash(&encode(model_id, &key)).to_hex()[..16])
}

/// The id a clue had before the typed encoding (model id, `\x1f`, display texts joined by `|`,
/// NULL as ""): kept only to carry ledgers written then over to the new ids.
pub fn legacy_clue_id(model_id: &str, display: &str) -> String {
    let mut h = blake3::Hasher::new();
    h.update(model_id.as_bytes());
    h.update(b"\x1f");
    h.update(display.as_bytes());
    format!("C{}", &h.finalize().to_hex()[..16])
}

/// Why a column of this type cannot be an entity column, or `None` when it can.
pub fn entity_type_error(t: &DataType) -> Option<String> {
    match t {
        DataType::Float16 | DataType::Float32 | DataType::Float64 => Some(format!(
            "is {t}: a floating-point value has no stable identity (0.1 + 0.2 ≠ 0.3); cast it to DECIMAL or text"
        )),
        DataType::Dictionary(_, v) => entity_type_error(v),
        t if readable(t) => None,
        t => Some(format!("is {t}, which cannot identify a clue; use text, an integer, a decimal or a date")),
    }
}

fn readable(t: &DataType) -> bool {
    use DataType::*;
    matches!(
        t,
        Null | Boolean
            | Int8
            | Int16
            | Int32
            | Int64
            | UInt8
            | UInt16
            | UInt32
            | UInt64
            | Utf8
            | LargeUtf8
            | Utf8View
            | Date32
            | Date64
            | Timestamp(_, _)
            | Decimal128(_, _)
            | Decimal256(_, _)
    )
}

/// Reads one column of entity-key values in canonical form.
pub fn column_values(a: &ArrayRef) -> Result<Vec<KeyValue>, DataFusionError> {
    let t = a.data_type().clone();
    if let Some(why) = entity_type_error(&t) {
        return Err(DataFusionError::Plan(format!("entity column {why}")));
    }
    let nulls = |f: &dyn Fn(usize) -> KeyValue| -> Vec<KeyValue> {
        (0..a.len()).map(|i| if a.is_null(i) { KeyValue::Null } else { f(i) }).collect()
    };
    Ok(match &t {
        DataType::Null => vec![KeyValue::Null; a.len()],
        DataType::Boolean => {
            let b = a.as_boolean();
            nulls(&|i| KeyValue::Bool(b.value(i)))
        }
        DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View | DataType::Dictionary(..) => {
            let s = cast(a, &DataType::Utf8)?;
            let s = s.as_string::<i32>();
            nulls(&|i| KeyValue::Text(s.value(i).to_string()))
        }
        DataType::Int8 | DataType::Int16 | DataType::Int32 | DataType::Int64 => {
            let v = cast(a, &DataType::Int64)?;
            let v = v.as_primitive::<datafusion::arrow::datatypes::Int64Type>();
            nulls(&|i| KeyValue::Int(v.value(i) as i128))
        }
        DataType::UInt8 | DataType::UInt16 | DataType::UInt32 | DataType::UInt64 => {
            let v = cast(a, &DataType::UInt64)?;
            let v = v.as_primitive::<datafusion::arrow::datatypes::UInt64Type>();
            nulls(&|i| KeyValue::Int(v.value(i) as i128))
        }
        DataType::Decimal128(_, scale) | DataType::Decimal256(_, scale) => {
            let scale = *scale;
            let v = cast(a, &DataType::Decimal128(38, scale.max(0)))?;
            let v = v.as_primitive::<datafusion::arrow::datatypes::Decimal128Type>();
            nulls(&|i| decimal(v.value(i), scale.max(0) as u32))
        }
        DataType::Date32 | DataType::Date64 => {
            let v = cast(a, &DataType::Date32)?;
            let v = v.as_primitive::<Date32Type>();
            nulls(&|i| {
                Date32Type::to_naive_date_opt(v.value(i)).map_or(KeyValue::Int(v.value(i) as i128), KeyValue::Date)
            })
        }
        DataType::Timestamp(_, _) => {
            let v = cast(a, &DataType::Timestamp(TimeUnit::Microsecond, None))?;
            let v = v.as_primitive::<datafusion::arrow::datatypes::TimestampMicrosecondType>();
            nulls(&|i| timestamp(v.value(i)))
        }
        other => return Err(DataFusionError::Plan(format!("entity column is {other}"))),
    })
}

/// A decimal in canonical form: an integer when it has no fraction, else without trailing zeros.
fn decimal(mut digits: i128, mut scale: u32) -> KeyValue {
    while scale > 0 && digits % 10 == 0 {
        digits /= 10;
        scale -= 1;
    }
    if scale == 0 { KeyValue::Int(digits) } else { KeyValue::Decimal(digits, scale) }
}

/// A timestamp at midnight is its date (a column that moves from DATE to TIMESTAMP keeps its ids).
fn timestamp(us: i64) -> KeyValue {
    const DAY: i64 = 86_400_000_000;
    if us.rem_euclid(DAY) == 0
        && let Some(d) = chrono::DateTime::from_timestamp_micros(us)
    {
        return KeyValue::Date(d.date_naive());
    }
    KeyValue::Timestamp(us)
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use datafusion::arrow::array::{Date32Array, Decimal128Array, Int32Array, Int64Array, StringArray};
    use datafusion::arrow::array::{TimestampMillisecondArray, TimestampSecondArray};

    use super::*;

    /// Pinned forever: a change here re-identifies every clue in every ledger.
    #[test]
    fn golden_clue_id() {
        assert_eq!(clue_id("relief.paid_after_death", ["340524198001010013"]), "C41140e2d884a7273");
        assert_eq!(
            encode("m", &[KeyValue::Text("a|b".into()), KeyValue::Null]),
            [
                &b"searchlight.clue/v2"[..],
                &[0, 0, 0, 0, 0, 0, 0, 1, b'm', 0, 0, 0, 2, b'S'],
                &[0, 0, 0, 0, 0, 0, 0, 3],
                b"a|b",
                b"N"
            ]
            .concat()
        );
    }

    #[test]
    fn null_empty_and_separators_do_not_collide() {
        let id = |k: Vec<KeyValue>| clue_id("m", k);
        assert_ne!(id(vec![KeyValue::Null]), id(vec!["".into()]));
        assert_ne!(id(vec!["a|b".into(), "c".into()]), id(vec!["a".into(), "b|c".into()]));
        assert_ne!(id(vec!["a".into(), KeyValue::Null]), id(vec!["a".into()]));
        assert_ne!(id(vec!["1".into()]), id(vec![KeyValue::Int(1)]));
        assert_ne!(clue_id("m|x", ["y"]), clue_id("m", ["x|y"]));
    }

    #[test]
    fn types_that_mean_the_same_encode_the_same() {
        let one = |a: ArrayRef| column_values(&a).unwrap().remove(0);
        assert_eq!(one(Arc::new(Int32Array::from(vec![7]))), one(Arc::new(Int64Array::from(vec![7]))));
        let dec = Decimal128Array::from(vec![700]).with_precision_and_scale(10, 2).unwrap();
        assert_eq!(one(Arc::new(dec)), KeyValue::Int(7));
        let dec = Decimal128Array::from(vec![750]).with_precision_and_scale(10, 2).unwrap();
        assert_eq!(one(Arc::new(dec)), KeyValue::Decimal(75, 1));
        let day = one(Arc::new(Date32Array::from(vec![20_000])));
        assert_eq!(one(Arc::new(TimestampSecondArray::from(vec![20_000 * 86_400]))), day);
        assert_eq!(one(Arc::new(TimestampMillisecondArray::from(vec![20_000 * 86_400_000]))), day);
        assert_ne!(one(Arc::new(TimestampSecondArray::from(vec![20_000 * 86_400 + 1]))), day);
        let s: ArrayRef = Arc::new(StringArray::from(vec![Some("x"), None, Some("")]));
        assert_eq!(column_values(&s).unwrap(), vec!["x".into(), KeyValue::Null, "".into()]);
        let f: ArrayRef = Arc::new(datafusion::arrow::array::Float64Array::from(vec![1.0]));
        assert!(column_values(&f).unwrap_err().to_string().contains("floating-point"));
    }
}
