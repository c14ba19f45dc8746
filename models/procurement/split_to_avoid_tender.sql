/* searchlight
id          = "procurement.split_to_avoid_tender"
catalog     = "M32"
title       = "化整为零规避公开招标"
title_en    = "Purchases split to stay under the open-tender threshold"
domain      = "procurement"
area        = "政府采购"
severity    = "high"
owner       = "党风政风监督室"
description = """
采购合同中，同一采购人、同一预算项目、同一品目在同一预算年度内以非公开招标方式多次采购，
单笔均低于公开招标数额标准、累计达到或超过标准的，为化整为零规避公开招标的疑点。跨年度的不合并。"""
basis = [
  "《中华人民共和国政府采购法》第二十八条：采购人不得将应当以公开招标方式采购的货物或者服务化整为零或者以其他任何方式规避公开招标采购",
  "《中华人民共和国政府采购法实施条例》第二十八条：在一个财政年度内，采购人将一个预算项目下的同一品目或者类别的货物、服务采用公开招标以外的方式多次采购，累计资金数额超过公开招标数额标准的，属于以化整为零方式规避公开招标，但项目预算调整或者经批准采用公开招标以外方式采购除外",
  "《国务院办公厅关于印发中央预算单位政府集中采购目录及标准(2020年版)的通知》(国办发〔2019〕55号)：政府采购货物或服务项目，单项采购金额达到200万元以上的，必须采用公开招标方式",
]
entity = ["buyer_name", "budget_project", "category", "year"]
unit   = "buyer_name"
amount = "total_amount"

optional = ["contracts.budget_project", "contracts.contract_no", "contracts.supplier_name"]

[params]
tender_threshold = { type = "money", default = 2000000, min = 100000, max = 100000000, doc = "公开招标数额标准(元)" }
min_contracts    = { type = "int", default = 2, min = 2, max = 50, doc = "至少几笔合同" }
*/
WITH bought AS (
    SELECT *, CAST(date_part('year', sign_date) AS BIGINT) AS year
    FROM contracts
    -- a contract with no recorded method was not openly tendered either
    WHERE coalesce(method, '未记录') <> '公开招标' AND sign_date <= $as_of
),
split AS (
    SELECT buyer_name, budget_project, category, year
    FROM bought
    GROUP BY buyer_name, budget_project, category, year
    HAVING count(*) >= $min_contracts
       AND sum(amount) >= $tender_threshold
       AND max(amount) < $tender_threshold
)
SELECT
    c.buyer_name,
    c.budget_project,
    c.category,
    c.year,
    count(*)                                         AS contracts,
    sum(c.amount)                                    AS total_amount,
    max(c.amount)                                    AS largest,
    string_agg(c.contract_no, '、')                  AS contract_nos,
    string_agg(DISTINCT c.method, '、')              AS methods,
    string_agg(DISTINCT c.supplier_name, '、')       AS suppliers,
    min(c.sign_date)                                 AS first_signed,
    max(c.sign_date)                                 AS last_signed
FROM bought c
-- coalesce: an export without the optional budget project groups by the rest (= drops NULLs)
JOIN split s ON s.buyer_name = c.buyer_name AND coalesce(s.budget_project, '') = coalesce(c.budget_project, '')
            AND coalesce(s.category, '') = coalesce(c.category, '') AND s.year = c.year
GROUP BY c.buyer_name, c.budget_project, c.category, c.year
