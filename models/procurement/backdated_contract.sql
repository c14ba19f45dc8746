/* searchlight
id          = "procurement.backdated_contract"
catalog     = "M40"
title       = "倒签合同：先履行(付款)后签订"
title_en    = "Backdated contract: performance or payment before signing"
domain      = "procurement"
area        = "政府采购"
severity    = "medium"
owner       = "党风政风监督室"
description = """
采购合同的履行开始日期或首次付款日期早于合同签订日期的，为先实施后采购、倒签合同的疑点；
提前天数越多越严重。签订当日开始履行的不算。"""
basis = [
  "《中华人民共和国政府采购法》第四十六条：采购人与中标、成交供应商应当在中标、成交通知书发出之日起三十日内，按照采购文件确定的事项签订政府采购合同",
  "《中华人民共和国政府采购法》第四十四条：政府采购合同应当采用书面形式",
  "《中华人民共和国预算法》第五十七条：各级政府、各部门、各单位的支出必须按照预算执行",
]
entity = ["contract_no"]
unit   = "buyer_name"
amount = "amount"

optional = ["contracts.contract_name", "contracts.buyer_name", "contracts.supplier_name", "contracts.amount", "contracts.method", "contracts.start_date", "contracts.first_pay_date"]
one_of   = [["contracts.start_date", "contracts.first_pay_date"]]

[params]
min_days = { type = "int", default = 1, min = 1, max = 365, doc = "早于签订日期至少几天" }
*/
SELECT
    contract_no,
    contract_name,
    buyer_name,
    supplier_name,
    amount,
    method,
    sign_date,
    start_date,
    first_pay_date,
    greatest(coalesce(sign_date - start_date, 0), coalesce(sign_date - first_pay_date, 0)) AS days_before_signing
FROM contracts
WHERE sign_date <= $as_of
  AND greatest(coalesce(sign_date - start_date, 0), coalesce(sign_date - first_pay_date, 0)) >= $min_days
