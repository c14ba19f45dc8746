/* searchlight
id          = "finance.year_end_rush"
catalog     = "M24"
title       = "年底突击花钱"
title_en    = "Year-end spending rush"
domain      = "finance"
area        = "预算执行"
severity    = "medium"
owner       = "党风政风监督室"
description = """
预算指标与国库集中支付比对：一个项目11—12月的支付额占全年预算指标的比例超过阈值的(审计署方法 A0110)，
为年底突击花钱、以拨代支的疑点。只看截止日已结束的预算年度的最后两个月。"""
basis = [
  "《中华人民共和国预算法实施条例》第六十七条：各部门、各单位应当按照预算和用款计划使用资金，不得突击花钱",
  "《党政机关厉行节约反对浪费条例》：严格执行预算，严禁超预算或者无预算安排支出",
  "《财政违法行为处罚处分条例》(国务院令第427号)第六条：违反规定使用财政资金的处理处分",
]
entity = ["project_code"]
unit   = "unit_name"
amount = "year_end_paid"

optional = ["budget_allocations.unit_name", "budget_allocations.project_name"]

[params]
max_share  = { type = "float", default = 0.5, min = 0.1, max = 1.0, doc = "11—12月支付占全年指标的比例上限" }
from_month = { type = "int", default = 11, min = 7, max = 12, doc = "从哪个月起算“年底”" }
*/
WITH budget AS (
    SELECT budget_year, project_code, min(unit_name) AS unit_name, min(project_name) AS project_name, sum(amount) AS allocated
    FROM budget_allocations
    GROUP BY budget_year, project_code
),
paid AS (
    SELECT budget_year, project_code,
           sum(CASE WHEN date_part('month', pay_date) >= $from_month THEN amount ELSE 0 END) AS year_end_paid,
           sum(amount) AS paid
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
    p.paid,
    p.year_end_paid,
    round(CAST(p.year_end_paid AS DOUBLE) / CAST(b.allocated AS DOUBLE), 4) AS year_end_share
FROM budget b
JOIN paid p ON p.budget_year = b.budget_year AND p.project_code = b.project_code
WHERE b.allocated > 0
  AND make_date(CAST(b.budget_year AS INT), 12, 31) <= $as_of
  AND CAST(p.year_end_paid AS DOUBLE) / CAST(b.allocated AS DOUBLE) > $max_share
