/* searchlight
id          = "finance.duplicate_reimbursement"
catalog     = "M28"
title       = "同一发票重复报销"
title_en    = "One invoice reimbursed more than once"
domain      = "finance"
area        = "财务报销"
severity    = "high"
owner       = "党风政风监督室"
description = """
报销明细中，同一张发票(发票代码+发票号码)出现在两张以上报销单中的，包括同一单位内重复和跨单位重复。
发票号码相同但发票代码不同的是两张发票，不算。金额为多报销的部分。"""
basis = [
  "《中华人民共和国会计法》第十四条：会计凭证必须真实；不得以虚假的经济业务事项或者资料进行会计核算",
  "《财政违法行为处罚处分条例》(国务院令第427号)第六条：以虚报、冒领等手段骗取财政资金的处理处分",
  "《中国共产党纪律处分条例》(2023年修订)：违反财经纪律，以虚报、冒领等手段骗取公款的处分",
]
entity = ["invoice_code", "invoice_no"]
unit   = "first_unit"
amount = "excess_amount"
optional = ["reimbursements.invoice_code", "reimbursements.unit_name", "reimbursements.claimant", "reimbursements.invoice_date", "reimbursements.amount", "reimbursements.claim_date"]
*/
WITH claimed AS (
    SELECT * FROM reimbursements WHERE invoice_no IS NOT NULL AND (claim_date IS NULL OR claim_date <= $as_of)
),
twice AS (
    -- invoices on more than one claim (min <> max is the cheap form of count(DISTINCT) > 1)
    SELECT invoice_code, invoice_no
    FROM claimed
    GROUP BY invoice_code, invoice_no
    HAVING min(claim_id) <> max(claim_id)
)
SELECT
    r.invoice_code,
    r.invoice_no,
    min(r.unit_name)                                 AS first_unit,
    count(DISTINCT r.unit_name)                      AS units,
    array_to_string(array_sort(array_agg(DISTINCT r.unit_name) FILTER (WHERE r.unit_name IS NOT NULL)), '、') AS unit_names,
    count(DISTINCT r.claim_id)                       AS claims,
    array_to_string(array_sort(array_agg(DISTINCT r.claim_id) FILTER (WHERE r.claim_id IS NOT NULL)), '、') AS claim_ids,
    array_to_string(array_sort(array_agg(DISTINCT r.claimant) FILTER (WHERE r.claimant IS NOT NULL)), '、') AS claimants,
    min(r.invoice_date)                              AS invoice_date,
    sum(r.amount) - min(r.amount)                    AS excess_amount
FROM claimed r
JOIN twice t ON coalesce(t.invoice_code, '') = coalesce(r.invoice_code, '') AND t.invoice_no = r.invoice_no
GROUP BY r.invoice_code, r.invoice_no
