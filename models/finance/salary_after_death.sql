/* searchlight
id          = "finance.salary_after_death"
catalog     = "M30"
title       = "死亡后仍在财政供养名单(吃空饷)"
title_en    = "Deceased people still on the public payroll (ghost payroll)"
domain      = "finance"
area        = "财政供养"
severity    = "high"
owner       = "党风政风监督室"
description = """
财政供养人员名单与死亡人口(公安、卫健、民政，取最早死亡日期)比对：死亡后超过宽限天数仍未退出
财政供养(无退出日期或退出日期晚于死亡日期加宽限)的，为吃空饷疑点；金额按死亡次月起至退出(或截止日)的
整月数乘月工资估算。"""
basis = [
  "中央组织部、人力资源社会保障部、财政部等《关于开展机关事业单位“吃空饷”问题集中治理工作的通知》(2014年)：清理死亡后仍领取工资等“吃空饷”行为，追缴违规领取的资金",
  "《财政违法行为处罚处分条例》(国务院令第427号)第六条：以虚报、冒领等手段骗取财政资金的处理处分",
  "《中国共产党纪律处分条例》(2023年修订)：违反有关规定，以虚报、冒领等手段骗取公款的处分",
]
entity = ["id_no"]
unit   = "unit_name"
amount = "overpaid_estimate"

optional = ["payroll.name", "payroll.unit_name", "payroll.category", "payroll.staffing", "payroll.end_date", "payroll.monthly_pay"]

[params]
grace_days = { type = "int", default = 31, min = 0, max = 92, doc = "死亡后办理退出手续的宽限天数" }
*/
WITH death AS (
    SELECT id_no, min(death_date) AS death_date
    FROM deaths
    WHERE id_no IS NOT NULL AND death_date <= $as_of
    GROUP BY id_no
)
SELECT
    p.id_no,
    p.name,
    p.unit_name,
    p.category,
    p.staffing,
    d.death_date,
    p.end_date,
    p.monthly_pay,
    (date_part('year', coalesce(p.end_date, $as_of)) - date_part('year', d.death_date)) * 12
      + date_part('month', coalesce(p.end_date, $as_of)) - date_part('month', d.death_date)     AS months_after_death,
    p.monthly_pay * ((date_part('year', coalesce(p.end_date, $as_of)) - date_part('year', d.death_date)) * 12
      + date_part('month', coalesce(p.end_date, $as_of)) - date_part('month', d.death_date))   AS overpaid_estimate
FROM payroll p
JOIN death d ON d.id_no = p.id_no
WHERE coalesce(p.end_date, $as_of) > d.death_date + $grace_days
