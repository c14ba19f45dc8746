/* searchlight
id          = "investment.incentive_to_closed_firm"
catalog     = "M47"
title       = "奖补企业注销或为空壳"
title_en    = "Incentives paid to firms that closed soon after, or that are shells"
domain      = "investment"
area        = "招商引资"
severity    = "medium"
owner       = "第一监督检查室"
description = """
奖补兑现与市场主体登记、供应商库(参保人数)比对：企业在兑现后约束期内注销的，或兑现时已注销的，
或参保人数不超过阈值的空壳企业领取奖补的，为骗取、套取财政奖补资金的疑点。"""
basis = [
  "《财政违法行为处罚处分条例》(国务院令第427号)第六条：以虚报、冒领等手段骗取财政资金的处理处分",
  "《中华人民共和国预算法》第五十七条：各级政府、各部门、各单位的支出必须按照预算执行，不得虚假列支",
]
entity = ["payout_no"]
unit   = "enterprise"
amount = "amount"

optional = ["incentive_payments.agreement_no", "incentive_payments.amount", "enterprises", "enterprises.name", "enterprises.status", "enterprises.cancelled", "suppliers", "suppliers.insured_staff"]
one_of   = [["enterprises.cancelled", "suppliers.insured_staff"]]

[params]
bound_days  = { type = "int", default = 1825, min = 365, max = 3650, doc = "兑现后企业须存续的约束期(天)" }
max_insured = { type = "int", default = 0, min = 0, max = 10, doc = "参保人数不超过此数视为空壳" }
*/
SELECT
    j.payout_no,
    j.agreement_no,
    j.uscc,
    coalesce(e.name, j.uscc)                      AS enterprise,
    j.amount,
    j.pay_date,
    e.status,
    e.cancelled,
    s.insured_staff,
    CASE WHEN e.status = '注销' AND e.cancelled < j.pay_date THEN '兑现时已注销'
         WHEN e.status = '注销' THEN '兑现后约束期内注销'
         ELSE '无参保人员(空壳)' END               AS finding
FROM incentive_payments j
LEFT JOIN enterprises e ON e.uscc = j.uscc
LEFT JOIN suppliers s  ON s.uscc = j.uscc
WHERE j.pay_date <= $as_of
  AND ((e.status = '注销' AND e.cancelled <= $as_of AND e.cancelled < j.pay_date + $bound_days)
       OR s.insured_staff <= $max_insured)
