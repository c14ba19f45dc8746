/* searchlight
id          = "finance.paid_by_two_units"
catalog     = "M30"
title       = "同一人在两个单位同时领取财政工资"
title_en    = "One person paid by two public employers at the same time"
domain      = "finance"
area        = "财政供养"
severity    = "high"
owner       = "党风政风监督室"
description = """
财政供养人员名单中，同一身份证号在两个以上单位同时处于在职状态(任职期间重叠)的，为重复领薪或
挂名吃空饷的疑点；金额按重叠整月数乘较低一方月工资估算。"""
basis = [
  "《中华人民共和国公务员法》第四十四条：公务员因工作需要在机关外兼职，应当经有关机关批准，并不得领取兼职报酬",
  "《财政违法行为处罚处分条例》(国务院令第427号)第六条：以虚报、冒领等手段骗取财政资金的处理处分",
]
entity = ["id_no"]
unit   = "unit_a"
amount = "overlap_estimate"
optional = ["payroll.category", "payroll.start_date", "payroll.end_date", "payroll.monthly_pay", "payroll.name"]
*/
WITH active AS (
    SELECT id_no, name, unit_name, monthly_pay, coalesce(start_date, DATE '1900-01-01') AS start_date,
           coalesce(end_date, $as_of) AS until
    FROM payroll
    WHERE coalesce(category, '在职') = '在职' AND (start_date IS NULL OR start_date <= $as_of)
),
pairs AS (
    SELECT a.id_no, a.name, a.unit_name AS unit_a, b.unit_name AS unit_b,
           greatest(a.start_date, b.start_date) AS overlap_from,
           least(a.until, b.until)              AS overlap_to,
           least(a.monthly_pay, b.monthly_pay)  AS lower_pay
    FROM active a
    JOIN active b ON b.id_no = a.id_no AND a.unit_name < b.unit_name
    WHERE greatest(a.start_date, b.start_date) < least(a.until, b.until)
)
SELECT
    id_no,
    min(name)                                 AS name,
    min(unit_a)                               AS unit_a,
    array_to_string(array_sort(array_agg(DISTINCT unit_b) FILTER (WHERE unit_b IS NOT NULL)), '、') AS other_units,
    min(overlap_from)                         AS overlap_from,
    max(overlap_to)                           AS overlap_to,
    sum(lower_pay * ((date_part('year', overlap_to) - date_part('year', overlap_from)) * 12
        + date_part('month', overlap_to) - date_part('month', overlap_from)))           AS overlap_estimate
FROM pairs
GROUP BY id_no
