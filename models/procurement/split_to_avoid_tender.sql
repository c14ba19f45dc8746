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
采购合同中以非公开招标方式多次采购、单笔均低于公开招标数额标准、累计达到或超过标准的，为化整为零规避
公开招标的疑点。有预算项目的，按实施条例第二十八条的法定口径：同一采购人、同一预算项目、同一品目在同一
财政年度内累计(跨年度的不合并)；没有预算项目的，不能按全年累计(业务量大的单位同一品目全年累计几乎都会
超过标准)，改按集中采购口径：同一采购人、同一品目在窗口期(默认30天)内签订的合同累计。证据列「判断口径」
写明用的是哪一种。"""
basis = [
  "《中华人民共和国政府采购法》第二十八条：采购人不得将应当以公开招标方式采购的货物或者服务化整为零或者以其他任何方式规避公开招标采购",
  "《中华人民共和国政府采购法实施条例》第二十八条：在一个财政年度内，采购人将一个预算项目下的同一品目或者类别的货物、服务采用公开招标以外的方式多次采购，累计资金数额超过公开招标数额标准的，属于以化整为零方式规避公开招标，但项目预算调整或者经批准采用公开招标以外方式采购除外",
  "《国务院办公厅关于印发中央预算单位政府集中采购目录及标准(2020年版)的通知》(国办发〔2019〕55号)：政府采购货物或服务项目，单项采购金额达到200万元以上的，必须采用公开招标方式",
]
entity = ["buyer_name", "budget_project", "category", "period"]
unit   = "buyer_name"
amount = "total_amount"

optional = ["contracts.budget_project", "contracts.contract_no", "contracts.supplier_name"]

[params]
tender_threshold = { type = "money", default = 2000000, min = 100000, max = 100000000, doc = "公开招标数额标准(元)" }
min_contracts    = { type = "int", default = 2, min = 2, max = 50, doc = "至少几笔合同" }
window_days      = { type = "int", default = 30, min = 1, max = 366, doc = "没有预算项目时，合并计算的签订日期窗口(天)" }
*/
WITH bought AS (
    SELECT *, CAST(date_part('year', sign_date) AS BIGINT) AS year
    FROM contracts
    -- a contract with no recorded method was not openly tendered either
    WHERE coalesce(method, '未记录') <> '公开招标' AND sign_date <= $as_of
),
-- the statutory form: one budget project, one category, one fiscal year
annual AS (
    SELECT buyer_name, budget_project, category, year
    FROM bought
    WHERE budget_project IS NOT NULL
    GROUP BY buyer_name, budget_project, category, year
    HAVING count(*) >= $min_contracts
       AND sum(amount) >= $tender_threshold
       AND max(amount) < $tender_threshold
),
annual_clues AS (
    SELECT c.buyer_name, c.budget_project, c.category, CAST(c.year AS VARCHAR) AS period,
           '同一预算项目同一品目同一财政年度累计(实施条例第二十八条)' AS form, c.contract_no, c.amount,
           c.method, c.supplier_name, c.sign_date
    FROM bought c
    JOIN annual s ON s.buyer_name = c.buyer_name AND s.budget_project = c.budget_project
                 AND coalesce(s.category, '') = coalesce(c.category, '') AND s.year = c.year
),
-- without a budget project: contracts under the threshold by one buyer in one category signed
-- within a window of days of the first
below AS (
    SELECT * FROM bought WHERE budget_project IS NULL AND amount < $tender_threshold
),
anchors AS (
    SELECT DISTINCT buyer_name, category, sign_date AS anchor FROM below
),
windows AS (
    SELECT a.buyer_name, a.category, a.anchor
    FROM anchors a
    JOIN below b ON b.buyer_name = a.buyer_name AND coalesce(b.category, '') = coalesce(a.category, '')
                AND b.sign_date >= a.anchor AND b.sign_date <= a.anchor + $window_days
    GROUP BY a.buyer_name, a.category, a.anchor
    HAVING count(*) >= $min_contracts AND sum(b.amount) >= $tender_threshold
),
-- one clue per run of overlapping windows: the earliest window of it
first_windows AS (
    SELECT w.* FROM windows w
    WHERE NOT EXISTS (
        SELECT 1 FROM windows e
        WHERE e.buyer_name = w.buyer_name AND coalesce(e.category, '') = coalesce(w.category, '')
          AND e.anchor < w.anchor AND w.anchor <= e.anchor + $window_days)
),
window_clues AS (
    SELECT c.buyer_name, c.budget_project, c.category,
           CAST(w.anchor AS VARCHAR) || '起' || CAST($window_days AS VARCHAR) || '天内' AS period,
           '同一品目' || CAST($window_days AS VARCHAR) || '天内累计(未提供预算项目，按集中采购口径)' AS form,
           c.contract_no, c.amount, c.method, c.supplier_name, c.sign_date
    FROM below c
    JOIN first_windows w ON w.buyer_name = c.buyer_name AND coalesce(w.category, '') = coalesce(c.category, '')
                        AND c.sign_date >= w.anchor AND c.sign_date <= w.anchor + $window_days
),
clues AS (
    SELECT * FROM annual_clues
    UNION ALL
    SELECT * FROM window_clues
)
SELECT
    buyer_name,
    budget_project,
    category,
    period,
    form,
    count(*)                                         AS contracts,
    sum(amount)                                      AS total_amount,
    max(amount)                                      AS largest,
    array_to_string(array_sort(array_agg(contract_no)), '、') AS contract_nos,
    array_to_string(array_sort(array_agg(DISTINCT method) FILTER (WHERE method IS NOT NULL)), '、') AS methods,
    array_to_string(array_sort(array_agg(DISTINCT supplier_name) FILTER (WHERE supplier_name IS NOT NULL)), '、') AS suppliers,
    min(sign_date)                                   AS first_signed,
    max(sign_date)                                   AS last_signed
FROM clues
GROUP BY buyer_name, budget_project, category, period, form
