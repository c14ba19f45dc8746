//! Parquet encoding of landed batches and of issue records, with the lake's writer settings:
//! Snappy compression, dictionary encoding, page-level statistics and page indexes, so that
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

/// Encodes issue records (quarantine or flags) into a Parquet file in memory, a slice at a time
/// and each record dropped once written: a dataset can carry millions of flags (3.3 M
/// `precision_lost` in one county's payments), and one batch of them all was a second copy.
pub fn encode_issues(issues: Vec<RowIssue>) -> Result<Vec<u8>, datafusion::parquet::errors::ParquetError> {
    const SLICE: usize = 64 * 1024;
    let schema = issue_schema();
    let mut buf = Vec::new();
    let mut w = ArrowWriter::try_new(&mut buf, schema.clone(), Some(properties(&schema)))?;
    let mut rest = issues.into_iter();
    loop {
        let slice: Vec<RowIssue> = rest.by_ref().take(SLICE).collect();
        if slice.is_empty() {
            break;
        }
        w.write(&issue_batch(&slice))?;
    }
    w.close()?;
    Ok(buf)
}

/// Issue records as one batch of [`issue_schema`].
fn issue_batch(issues: &[RowIssue]) -> RecordBatch {
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

#[cfg(test)]
mod tests {
    use super::*;
    use datafusion::arrow::array::{Array, AsArray};
    use datafusion::arrow::datatypes::UInt64Type;
    use datafusion::parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;

    /// Issues written a slice at a time come back whole and in order: more than two slices'
    /// worth, the last one short, with and without a sheet and a record.
    #[test]
    fn issues_written_in_slices_come_back_whole_and_in_order() {
        let n = 150_001u64;
        let issues: Vec<RowIssue> = (1..=n)
            .map(|line| RowIssue {
                file: "低保发放明细.xlsx".into(),
                sheet: (line % 2 == 0).then(|| "白石镇".into()),
                line,
                column: "head_id(户主身份证号)".into(),
                raw: format!("3.41122E+17 #{line}"),
                code: "precision_lost".into(),
                reason: "身份证号被Excel存为数字".into(),
                record: (line % 3 == 0).then(|| format!("record {line}")),
            })
            .collect();
        let bytes = encode_issues(issues).unwrap();
        let reader = ParquetRecordBatchReaderBuilder::try_new(bytes::Bytes::from(bytes)).unwrap().build().unwrap();
        let mut next = 1u64;
        for batch in reader {
            let b = batch.unwrap();
            let lines = b.column(2).as_primitive::<UInt64Type>();
            let (sheets, raws, records) =
                (b.column(1).as_string::<i32>(), b.column(4).as_string::<i32>(), b.column(7).as_string::<i32>());
            for i in 0..b.num_rows() {
                assert_eq!(lines.value(i), next);
                assert_eq!(sheets.is_null(i), next % 2 != 0);
                assert_eq!(raws.value(i), format!("3.41122E+17 #{next}"));
                assert_eq!(records.is_null(i), next % 3 != 0);
                next += 1;
            }
        }
        assert_eq!(next, n + 1);
    }
}
