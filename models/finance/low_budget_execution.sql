/* searchlight
id          = "finance.low_budget_execution"
catalog     = "M27"
title       = "项目资金闲置、预算执行率低"
title_en    = "Idle project funds: low budget execution at year end"
domain      = "finance"
area        = "预算执行"
severity    = "low"
owner       = "党风政风监督室"
description = """
预算指标与国库集中支付比对：预算年度结束时，项目累计支付占指标的比例低于阈值的(审计署方法 A0105)，
为资金闲置、项目推进不力的疑点；金额为未支付的指标。"""
basis = [
  "《中华人民共和国预算法》第五十七条：各级政府、各部门、各单位的支出必须按照预算执行",
  "《国务院关于进一步深化预算管理制度改革的意见》(国发〔2021〕5号)：加大结余结转资金统筹力度，对执行进度慢的项目收回调整预算",
  "《财政部关于推进地方盘活财政存量资金有关事项的通知》(财预〔2015〕15号)：结转两年以上的资金收回统筹使用",
]
entity = ["project_code"]
unit   = "unit_name"
amount = "unspent"

optional = ["budget_allocations.unit_name", "budget_allocations.project_name"]

[params]
min_rate = { type = "float", default = 0.2, min = 0.01, max = 0.9, doc = "年末支付进度下限" }
*/
WITH budget AS (
    SELECT budget_year, project_code, min(unit_name) AS unit_name, min(project_name) AS project_name, sum(amount) AS allocated
    FROM budget_allocations
    GROUP BY budget_year, project_code
),
paid AS (
    SELECT budget_year, project_code, sum(amount) AS paid
    FROM treasury_payments
    WHERE pay_date <= $as_of
    GROUP BY budget_year, project_code
)
SELECT
    b.project_code,
    b.budget_year,
    b.unit_name,
    b.project_name,
    b.allocated,
    coalesce(p.paid, 0)                                                             AS paid,
    b.allocated - coalesce(p.paid, 0)                                               AS unspent,
    round(CAST(coalesce(p.paid, 0) AS DOUBLE) / CAST(b.allocated AS DOUBLE), 4)     AS execution_rate
FROM budget b
LEFT JOIN paid p ON p.budget_year = b.budget_year AND p.project_code = b.project_code
WHERE b.allocated > 0
  AND make_date(CAST(b.budget_year AS INT), 12, 31) <= $as_of
  AND CAST(coalesce(p.paid, 0) AS DOUBLE) / CAST(b.allocated AS DOUBLE) < $min_rate
