/* searchlight
id          = "finance.sensitive_payees"
catalog     = "M19"
title       = "向高档消费、娱乐场所支付财政资金"
title_en    = "Treasury payments to luxury or entertainment venues"
domain      = "finance"
area        = "三公经费"
severity    = "high"
owner       = "党风政风监督室"
description = """
国库集中支付明细中，收款人名称或用途含足疗、按摩、会所、洗浴、娱乐等敏感字样的(审计署方法 A0122)。
用途含“酒店”的会议住宿按方法排除；金额低于起点的不列。关键词、排除词可按地方实际调整。"""
basis = [
  "中央八项规定及其实施细则精神：严禁用公款出入私人会所、营业性娱乐场所",
  "《党政机关厉行节约反对浪费条例》：不得违反规定使用公款宴请、消费",
  "《中国共产党纪律处分条例》(2023年修订)违反中央八项规定精神的行为：用公款出入营业性娱乐场所的处分",
]
entity = ["payee_name"]
unit   = "unit_name"
amount = "amount"

optional = ["treasury_payments.unit_name", "treasury_payments.purpose", "treasury_payments.econ_name", "treasury_payments.pay_date"]

[params]
payee_words   = { type = "text", default = "足疗|足浴|足道|按摩|会所|水会|洗浴|桑拿|娱乐|KTV|夜总会|高尔夫", doc = "收款人名称敏感词(正则，|分隔)" }
purpose_words = { type = "text", default = "足疗|按摩|洗浴|娱乐|会所|高档|旅游|风景区|烟|纪念品|工艺品", doc = "用途敏感词(正则，|分隔)" }
exclude_words = { type = "text", default = "酒店", doc = "用途含此字样的排除" }
min_amount    = { type = "money", default = 1000, min = 0, max = 1000000, doc = "单笔金额起点(元)" }
*/
SELECT
    payee_name,
    min(unit_name)                               AS unit_name,
    array_to_string(array_sort(array_agg(DISTINCT purpose) FILTER (WHERE purpose IS NOT NULL)), '、') AS purposes,
    array_to_string(array_sort(array_agg(DISTINCT econ_name) FILTER (WHERE econ_name IS NOT NULL)), '、') AS econ_names,
    count(*)                                     AS payments,
    sum(amount)                                  AS amount,
    min(pay_date)                                AS first_paid,
    max(pay_date)                                AS last_paid
FROM treasury_payments
WHERE (regexp_like(payee_name, $payee_words) OR regexp_like(coalesce(purpose, ''), $purpose_words))
  AND NOT regexp_like(coalesce(purpose, ''), $exclude_words)
  AND amount >= $min_amount
  AND (pay_date IS NULL OR pay_date <= $as_of)
GROUP BY payee_name
