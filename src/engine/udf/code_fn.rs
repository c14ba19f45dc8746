//! One `ScalarUDFImpl` for every "text in, one value out" code function: the functions differ
//! only in the pure rule they apply, so they share the Arrow plumbing here.

use std::sync::Arc;

use datafusion::arrow::array::{Array, ArrayRef, AsArray, BooleanArray, Date32Array, StringArray};
use datafusion::arrow::compute::cast;
use datafusion::arrow::datatypes::DataType;
use datafusion::common::Result;
use datafusion::logical_expr::{ColumnarValue, ScalarFunctionArgs, ScalarUDFImpl, Signature, Volatility};

/// The rule a function applies, by output type.
#[derive(Debug, PartialEq, Eq, Hash)]
#[allow(unpredictable_function_pointer_comparisons)]
pub enum Output {
    /// text → boolean
    Bool(fn(&str) -> bool),
    /// text → text
    Text(fn(&str) -> Option<String>),
    /// text → date
    Date(fn(&str) -> Option<chrono::NaiveDate>),
}

/// A code function: name, string signature and rule.
#[derive(Debug, PartialEq, Eq, Hash)]
pub struct CodeFunction {
    name: &'static str,
    signature: Signature,
    output: Output,
}

impl CodeFunction {
    /// A function of one string argument.
    pub fn new(name: &'static str, output: Output) -> Self {
        CodeFunction { name, signature: Signature::string(1, Volatility::Immutable), output }
    }
}

impl ScalarUDFImpl for CodeFunction {
    fn name(&self) -> &str {
        self.name
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn return_type(&self, _args: &[DataType]) -> Result<DataType> {
        Ok(match self.output {
            Output::Bool(_) => DataType::Boolean,
            Output::Text(_) => DataType::Utf8,
            Output::Date(_) => DataType::Date32,
        })
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        let scalar = args.args.iter().all(|a| matches!(a, ColumnarValue::Scalar(_)));
        let input = args.args[0].clone().into_array(args.number_rows)?;
        let input = cast(&input, &DataType::Utf8)?;
        let strings = input.as_string::<i32>();
        let out: ArrayRef = match self.output {
            Output::Bool(f) => Arc::new(strings.iter().map(|v| v.map(f)).collect::<BooleanArray>()),
            Output::Text(f) => Arc::new(strings.iter().map(|v| v.and_then(f)).collect::<StringArray>()),
            Output::Date(f) => {
                let epoch = chrono::NaiveDate::from_ymd_opt(1970, 1, 1).expect("epoch");
                Arc::new(
                    strings
                        .iter()
                        .map(|v| v.and_then(f).map(|d| (d - epoch).num_days() as i32))
                        .collect::<Date32Array>(),
                )
            }
        };
        if scalar && out.len() == 1 {
            return Ok(ColumnarValue::Scalar(datafusion::common::ScalarValue::try_from_array(&out, 0)?));
        }
        Ok(ColumnarValue::Array(out))
    }
}
