//! SQL functions, called through DataFusion as model authors call them.

use searchlight::engine::Engine;

async fn one(sql: &str) -> Vec<String> {
    let e = Engine::local();
    crate::util::lines(&e.sql(sql).await.unwrap_or_else(|err| panic!("{sql}: {err}")).collect().await.unwrap())
}

#[tokio::test]
async fn id_card_functions() {
    assert_eq!(
        one("select id_card_valid('34052419800101001X'), id_card_valid('340524198001010013'), id_card_valid(NULL)")
            .await,
        vec!["true|false|"]
    );
    assert_eq!(one("select id_card_birth_date('34052419800101001X'), id_card_region('34052419800101001X'), id_card_gender('34052419800101001X')").await, vec!["1980-01-01|340524|男"]);
    assert_eq!(one("select id_card_normalize(' ３４０５２４１９８００１０１００１ｘ '), id_card_normalize('370802940221002'), id_card_normalize('3.40524E+17')").await, vec!["34052419800101001X|370802199402210029|"]);
}

#[tokio::test]
async fn credit_code_and_name_functions_on_columns() {
    let rows = one(
        "select c, uscc_valid(c), uscc_region(c), org_name_key(n) from (values ('91350200776049653A', '某某 科技（有限）公司'), ('91350203M0001QAY9B', 'x'), (NULL, NULL)) t(c, n) order by c",
    )
    .await;
    assert_eq!(
        rows,
        vec!["91350200776049653A|true|350200|某某科技(有限)公司", "91350203M0001QAY9B|false|350203|x", "|||"]
    );
}

#[tokio::test]
async fn functions_are_listed_in_information_schema() {
    let rows = one("select count(*) from information_schema.routines where routine_name in ('id_card_valid','id_card_birth_date','id_card_region','uscc_valid')").await;
    assert_eq!(rows, vec!["4"]);
}
