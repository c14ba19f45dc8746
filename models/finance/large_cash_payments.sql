/* searchlight
id          = "finance.large_cash_payments"
catalog     = "M29"
title       = "大额现金支付"
title_en    = "Large cash payments"
domain      = "finance"
area        = "财经纪律"
severity    = "medium"
owner       = "党风政风监督室"
description = """
会计凭证中贷记“库存现金”(科目1001)、金额达到阈值的支出，为应通过公务卡或转账结算却以现金支付、
或套取现金的疑点。按凭证归集，列出对方科目和摘要。"""
basis = [
  "《现金管理暂行条例》(国务院令第12号)第五条：开户单位可以在规定范围内使用现金，结算起点为一千元；超过使用现金限额的部分，应当以支票或者银行本票支付",
  "《财政部 中国人民银行关于实施中央预算单位公务卡强制结算目录的通知》(财库〔2011〕160号)：目录内的公务支出原则上使用公务卡结算",
]
entity = ["unit_name", "voucher_no"]
unit   = "unit_name"
amount = "cash_amount"

optional = ["vouchers.fiscal_year", "vouchers.voucher_date", "vouchers.summary", "vouchers.account_name", "vouchers.debit"]

[params]
cash_account = { type = "text", default = "1001", doc = "库存现金科目编码" }
min_amount   = { type = "money", default = 10000, min = 1000, max = 10000000, doc = "单张凭证现金支付阈值(元)" }
*/
WITH cash AS (
    SELECT unit_name, fiscal_year, voucher_no, min(voucher_date) AS voucher_date, sum(credit) AS cash_amount,
           min(summary) AS summary
    FROM vouchers
    WHERE account_code = $cash_account
      AND credit > 0
      AND (voucher_date IS NULL OR voucher_date <= $as_of)
    GROUP BY unit_name, fiscal_year, voucher_no
)
SELECT
    c.unit_name,
    c.voucher_no,
    c.fiscal_year,
    c.voucher_date,
    c.summary,
    c.cash_amount,
    array_to_string(array_sort(array_agg(DISTINCT v.account_name) FILTER (WHERE v.account_name IS NOT NULL)), '、') AS debit_accounts
FROM cash c
LEFT JOIN vouchers v
       ON v.unit_name = c.unit_name AND v.voucher_no = c.voucher_no AND coalesce(v.fiscal_year, 0) = coalesce(c.fiscal_year, 0) AND v.debit > 0
WHERE c.cash_amount >= $min_amount
GROUP BY c.unit_name, c.voucher_no, c.fiscal_year, c.voucher_date, c.summary, c.cash_amount
