/* searchlight
id          = "finance.round_sums_at_retailers"
catalog     = "M20"
title       = "在超市商场整数消费(疑似购买购物卡)"
title_en    = "Round-sum payments to supermarkets and malls (gift-card proxy)"
domain      = "finance"
area        = "三公经费"
severity    = "medium"
owner       = "党风政风监督室"
description = """
国库集中支付明细中，收款人为超市、商场、购物中心，且单笔金额为整百元并超过起点的(审计署方法 A0123)，
为以办公用品等名义购买购物卡、发放福利的疑点。非整数的日常采购不列。"""
basis = [
  "中央八项规定及其实施细则精神：严禁用公款购买、赠送购物卡、消费卡",
  "《中国共产党纪律处分条例》(2023年修订)违反中央八项规定精神的行为：违反有关规定自定薪酬或者滥发津贴、补贴、奖金的处分",
]
entity = ["payee_name", "payment_id"]
unit   = "unit_name"
amount = "amount"

optional = ["treasury_payments.unit_name", "treasury_payments.purpose", "treasury_payments.econ_name", "treasury_payments.pay_date"]

[params]
retail_words = { type = "text", default = "超市|商场|购物|百货|商厦", doc = "收款人为零售场所的字样(正则)" }
round_to     = { type = "money", default = 100, min = 1, max = 100000, doc = "整数单位(元)" }
min_amount   = { type = "money", default = 1000, min = 0, max = 1000000, doc = "单笔金额起点(元)" }
*/
SELECT
    payee_name,
    payment_id,
    unit_name,
    purpose,
    econ_name,
    pay_date,
    amount
FROM treasury_payments
WHERE regexp_like(payee_name, $retail_words)
  AND amount % $round_to = 0
  AND amount > $min_amount
  AND (pay_date IS NULL OR pay_date <= $as_of)
