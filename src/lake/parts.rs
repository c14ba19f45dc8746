//! Parquet encoding of landed batches and of issue records, with the lake's writer settings:
//! ZSTD compression, dictionary encoding, page-level statistics and page indexes, so that
//! DataFusion can prune row groups and pages when models filter.

use std::sync::Arc;

use datafusion::arrow::array::{ArrayRef, StringBuilder, UInt64Builder};
use datafusion::arrow::datatypes::{DataType, Field, Schema, SchemaRef};
use datafusion::arrow::record_batch::RecordBatch;
use datafusion::parquet::arrow::ArrowWriter;
use datafusion::parquet::basic::Compression;
use datafusion::parquet::file::properties::{EnabledStatistics, WriterProperties};
use datafusion::parquet::schema::types::ColumnPath;

use crate::connector::RowIssue;

/// Rows per row group.
pub const ROW_GROUP_ROWS: usize = 256 * 1024;

fn properties(schema: &SchemaRef) -> WriterProperties {
    let mut b = WriterProperties::builder()
        .set_compression(Compression::SNAPPY)
        .set_statistics_enabled(EnabledStatistics::Page)
        .set_max_row_group_row_count(Some(ROW_GROUP_ROWS))
        .set_created_by(format!("searchlight {}", env!("CARGO_PKG_VERSION")));
    // identifiers are nearly unique: a dictionary would only be built to be thrown away
    for f in schema.fields() {
        let kind = f.metadata().get("type").map(String::as_str);
        if matches!(kind, Some("id_card" | "uscc" | "account")) || f.metadata().contains_key("key") {
            b = b.set_column_dictionary_enabled(ColumnPath::from(f.name().as_str()), false);
        }
    }
    b.build()
}

/// Encodes batches of one schema into a Parquet file in memory.
pub fn encode(
    schema: &SchemaRef,
    batches: &[RecordBatch],
) -> Result<Vec<u8>, datafusion::parquet::errors::ParquetError> {
    let mut buf = Vec::new();
    let mut w = ArrowWriter::try_new(&mut buf, schema.clone(), Some(properties(schema)))?;
    for b in batches {
        w.write(b)?;
    }
    w.close()?;
    Ok(buf)
}

/// Schema of quarantine and flag files.
pub fn issue_schema() -> SchemaRef {
    Arc::new(Schema::new(vec![
        Field::new("file", DataType::Utf8, false),
        Field::new("sheet", DataType::Utf8, true),
        Field::new("line", DataType::UInt64, false),
        Field::new("column", DataType::Utf8, false),
        Field::new("raw", DataType::Utf8, false),
        Field::new("code", DataType::Utf8, false),
        Field::new("reason", DataType::Utf8, false),
        Field::new("record", DataType::Utf8, true),
    ]))
}

/// Issue records as one batch of [`issue_schema`].
pub fn issue_batch(issues: &[RowIssue]) -> RecordBatch {
    let mut file = StringBuilder::new();
    let mut sheet = StringBuilder::new();
    let mut line = UInt64Builder::new();
    let mut column = StringBuilder::new();
    let mut raw = StringBuilder::new();
    let mut code = StringBuilder::new();
    let mut reason = StringBuilder::new();
    let mut record = StringBuilder::new();
    for i in issues {
        file.append_value(&i.file);
        sheet.append_option(i.sheet.as_deref());
        line.append_value(i.line);
        column.append_value(&i.column);
        raw.append_value(&i.raw);
        code.append_value(&i.code);
        reason.append_value(&i.reason);
        record.append_option(i.record.as_deref());
    }
    let arrays: Vec<ArrayRef> = vec![
        Arc::new(file.finish()),
        Arc::new(sheet.finish()),
        Arc::new(line.finish()),
        Arc::new(column.finish()),
        Arc::new(raw.finish()),
        Arc::new(code.finish()),
        Arc::new(reason.finish()),
        Arc::new(record.finish()),
    ];
    RecordBatch::try_new(issue_schema(), arrays).expect("issue arrays match the schema")
}
