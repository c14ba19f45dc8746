/* searchlight
id          = "finance.transfers_to_union"
catalog     = "M25"
title       = "财政资金转入工会等账户(虚列支出)"
title_en    = "Treasury funds transferred to the union (fictitious expenditure)"
domain      = "finance"
area        = "财经纪律"
severity    = "medium"
owner       = "党风政风监督室"
description = """
国库集中支付明细中，收款人或用途含“工会”，且单笔金额达到阈值的(审计署方法 A0109)，为以拨付工会经费等
名义虚列支出、转移资金设立“小金库”或变相发放福利的疑点。按收款人归集。"""
basis = [
  "《中华人民共和国预算法实施条例》第六十七条：各部门、各单位应当按照预算和用款计划使用资金，不得虚列支出",
  "《财政违法行为处罚处分条例》(国务院令第427号)第六条：以虚报、冒领等手段骗取财政资金，截留、挪用财政资金的处理处分",
  "《中华人民共和国工会法》第四十三条：工会经费来源为会员会费、单位按全部职工工资总额2%拨缴的经费等，拨缴以外的财政资金转入应有依据",
]
entity = ["payee_name"]
unit   = "unit_name"
amount = "amount"

optional = ["treasury_payments.unit_name", "treasury_payments.purpose", "treasury_payments.pay_date"]

[params]
min_amount = { type = "money", default = 10000, min = 0, max = 10000000, doc = "单笔金额阈值(元)" }
*/
SELECT
    payee_name,
    min(unit_name)                          AS unit_name,
    array_to_string(array_sort(array_agg(DISTINCT purpose) FILTER (WHERE purpose IS NOT NULL)), '、') AS purposes,
    count(*)                                AS payments,
    sum(amount)                             AS amount,
    max(pay_date)                           AS last_paid
FROM treasury_payments
WHERE (strpos(payee_name, '工会') > 0 OR strpos(coalesce(purpose, ''), '工会') > 0)
  AND amount >= $min_amount
  AND (pay_date IS NULL OR pay_date <= $as_of)
GROUP BY payee_name
