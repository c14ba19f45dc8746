/* searchlight
id          = "investment.incentive_without_conditions"
catalog     = "M46"
title       = "招商引资奖补未达约定条件或提前兑现"
title_en    = "Investment incentives paid before assessment or without meeting the promised tax"
domain      = "investment"
area        = "招商引资"
severity    = "high"
owner       = "第一监督检查室"
description = """
招商引资协议、奖补兑现与税务入库数据比对：在协议约定的考核日期前兑现的(提前兑现)，兑现前一个完整
纳税年度实际入库税收低于承诺额一定比例的(未达条件)，或兑现累计超过协议奖补上限的(超额兑现)，均为疑点。"""
basis = [
  "《公平竞争审查条例》(国务院令第783号)第十条：起草单位起草的政策措施，没有法律、行政法规依据或者未经国务院批准，不得给予特定经营者税收优惠，不得根据特定经营者缴纳的税收或者非税收入情况给予奖励、补贴",
  "《中华人民共和国预算法》第五十七条：各级政府、各部门、各单位的支出必须按照预算执行，不得虚假列支",
  "《财政违法行为处罚处分条例》(国务院令第427号)第六条：违反规定使用、骗取财政资金的处理处分",
]
entity = ["agreement_no"]
unit   = "enterprise"
amount = "paid_amount"

optional = ["tax_payments", "investment_agreements.enterprise", "investment_agreements.uscc", "investment_agreements.promised_tax", "investment_agreements.assessment_date", "investment_agreements.incentive_cap"]
one_of   = [["investment_agreements.assessment_date", "investment_agreements.promised_tax", "investment_agreements.incentive_cap"]]

[params]
min_tax_ratio = { type = "float", default = 1.0, min = 0.1, max = 1.0, doc = "实际入库税收至少达到承诺额的比例" }
*/
WITH paid AS (
    SELECT agreement_no, sum(amount) AS paid_amount, min(pay_date) AS first_paid, max(pay_date) AS last_paid,
           min(CAST(date_part('year', pay_date) AS BIGINT)) - 1 AS assessed_year
    FROM incentive_payments
    WHERE pay_date <= $as_of
    GROUP BY agreement_no
),
tax AS (
    SELECT uscc, tax_year, sum(amount) AS tax_paid
    FROM tax_payments
    GROUP BY uscc, tax_year
),
tax_known AS (
    -- without any tax records the shortfall cannot be judged: that route stays silent
    SELECT count(*) > 0 AS any_tax FROM tax_payments
)
SELECT
    a.agreement_no,
    a.enterprise,
    a.uscc,
    a.promised_tax,
    a.assessment_date,
    a.incentive_cap,
    p.paid_amount,
    p.first_paid,
    p.assessed_year,
    coalesce(t.tax_paid, 0)                                                          AS tax_in_assessed_year,
    concat_ws('；',
        CASE WHEN p.first_paid < a.assessment_date THEN '考核日前提前兑现' END,
        CASE WHEN k.any_tax AND coalesce(t.tax_paid, 0) < a.promised_tax * $min_tax_ratio THEN '实际税收未达承诺' END,
        CASE WHEN p.paid_amount > a.incentive_cap THEN '兑现超过奖补上限' END)       AS findings
FROM investment_agreements a
JOIN paid p     ON p.agreement_no = a.agreement_no
LEFT JOIN tax t ON t.uscc = a.uscc AND t.tax_year = p.assessed_year
CROSS JOIN tax_known k
WHERE p.first_paid < a.assessment_date
   OR (k.any_tax AND coalesce(t.tax_paid, 0) < a.promised_tax * $min_tax_ratio)
   OR p.paid_amount > a.incentive_cap
