/* searchlight
id          = "finance.invoice_after_claim"
title       = "发票开具日期晚于报销日期"
title_en    = "Invoice dated after the claim that reimbursed it"
domain      = "finance"
area        = "财务报销"
severity    = "low"
owner       = "党风政风监督室"
description = """
报销明细中，发票开具日期晚于报销(审批)日期的，为先报销后补票、以票抵账或虚假报销的疑点。"""
basis = [
  "《中华人民共和国会计法》第十四条：会计凭证必须真实；原始凭证记载的各项内容均不得涂改",
  "《中华人民共和国发票管理办法》第二十一条：不符合规定的发票，不得作为财务报销凭证",
]
entity = ["claim_id"]
unit   = "unit_name"
amount = "amount"
optional = ["reimbursements.unit_name", "reimbursements.claimant", "reimbursements.invoice_code", "reimbursements.invoice_no", "reimbursements.seller_name", "reimbursements.amount"]
*/
SELECT
    claim_id,
    unit_name,
    claimant,
    claim_date,
    invoice_code,
    invoice_no,
    invoice_date,
    seller_name,
    amount,
    invoice_date - claim_date AS days_after
FROM reimbursements
WHERE invoice_date > claim_date
  AND claim_date <= $as_of
