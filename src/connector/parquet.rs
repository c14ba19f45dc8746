//! Parquet exports: columns are matched by name; numbers and booleans keep their type, other
//! values are read as text and go through the same conversions as every other format.

use std::sync::Arc;

use bytes::Bytes;
use datafusion::arrow::array::{Array, ArrayRef, AsArray, StringArray};
use datafusion::arrow::compute::cast;
use datafusion::arrow::datatypes::{DataType, Float64Type, Int64Type};
use datafusion::parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;

use super::convert::RawRows;
use super::spec::ParquetOptions;
use super::value::Cell;
use super::{Connector, Each, Error, FileSplit, Mapped, Piece, Result};

pub(super) struct ParquetReader(#[allow(dead_code)] pub ParquetOptions);

impl super::FormatReader for ParquetReader {
    fn read(&self, conn: &Connector, split: &FileSplit, bytes: Bytes, each: &mut Each<'_>) -> Result<()> {
        let file = &split.file;
        let shown = &file.file.display;
        let err = |message: String| Error::Input { file: shown.clone(), line: 0, message };
        let builder = ParquetRecordBatchReaderBuilder::try_new(bytes)
            .map_err(|e| err(format!("not a readable Parquet file: {e}")))?;
        let headers: Vec<String> = builder.schema().fields().iter().map(|f| f.name().clone()).collect();
        let mapping = super::map_headers(conn, &headers, shown, 0)?;
        let reader = builder.with_batch_size(65_536).build().map_err(|e| err(e.to_string()))?;
        let mut first_row = 1u64;
        for batch in reader {
            let batch = batch.map_err(|e| err(e.to_string()))?;
            let columns: Vec<Column> = mapping
                .iter()
                .map(|m| match m {
                    Mapped::Column(i, _) => Column::from_array(batch.column(*i)),
                    _ => Ok(Column::None),
                })
                .collect::<std::result::Result<_, _>>()
                .map_err(|e: datafusion::arrow::error::ArrowError| err(e.to_string()))?;
            let rows = BatchRows {
                columns,
                mapping: mapping.clone(),
                first_row,
                len: batch.num_rows(),
                file_name: file.file.name(),
            };
            each(Piece::shared(&rows, shown, None))?;
            first_row += batch.num_rows() as u64;
        }
        Ok(())
    }
}

enum Column {
    Int(ArrayRef),
    Float(ArrayRef),
    Bool(ArrayRef),
    Text(StringArray),
    None,
}

impl Column {
    fn from_array(a: &ArrayRef) -> std::result::Result<Column, datafusion::arrow::error::ArrowError> {
        Ok(match a.data_type() {
            DataType::Int8
            | DataType::Int16
            | DataType::Int32
            | DataType::Int64
            | DataType::UInt8
            | DataType::UInt16
            | DataType::UInt32 => Column::Int(cast(a, &DataType::Int64)?),
            DataType::Float16 | DataType::Float32 | DataType::Float64 => Column::Float(cast(a, &DataType::Float64)?),
            DataType::Boolean => Column::Bool(Arc::clone(a)),
            _ => Column::Text(cast(a, &DataType::Utf8)?.as_string::<i32>().clone()),
        })
    }
}

struct BatchRows<'a> {
    columns: Vec<Column>,
    mapping: Vec<Mapped>,
    first_row: u64,
    len: usize,
    file_name: &'a str,
}

impl RawRows for BatchRows<'_> {
    fn len(&self) -> usize {
        self.len
    }

    fn cell(&self, column: usize, row: usize) -> Cell<'_> {
        if self.mapping[column] == Mapped::FileName {
            return Cell::Text(self.file_name);
        }
        match &self.columns[column] {
            Column::None => Cell::Empty,
            Column::Int(a) if a.is_valid(row) => Cell::Int(a.as_primitive::<Int64Type>().value(row)),
            Column::Float(a) if a.is_valid(row) => Cell::Number(a.as_primitive::<Float64Type>().value(row)),
            Column::Bool(a) if a.is_valid(row) => Cell::Bool(a.as_boolean().value(row)),
            Column::Text(a) if a.is_valid(row) => Cell::Text(a.value(row)),
            _ => Cell::Empty,
        }
    }

    // a key (or header) that names its unit (`认缴出资额(万元)`) is read in it
    fn mapping(&self) -> Option<&[Mapped]> {
        Some(&self.mapping)
    }

    fn line(&self, row: usize) -> u64 {
        self.first_row + row as u64
    }

    fn record(&self, row: usize) -> String {
        (0..self.columns.len()).map(|c| self.cell(c, row).display()).collect::<Vec<_>>().join("\t")
    }

    fn first_text(&self, _row: usize) -> Option<String> {
        None
    }
}
