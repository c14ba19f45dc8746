/* searchlight
id          = "land.premium_not_collected"
catalog     = "M41"
title       = "土地出让价款未足额征收或逾期未收违约金"
title_en    = "Land premium not fully collected, or paid late without the penalty"
domain      = "land"
area        = "土地出让"
severity    = "high"
owner       = "第三监督检查室"
description = """
出让合同、分期缴款约定与非税缴款明细比对：截止日已到期应缴而未缴足的，为欠缴出让价款的疑点；
已缴清但晚于约定期限、又未收足违约金的，为逾期未收违约金的疑点(应收违约金按每期逾期金额×逾期天数×日比例1‰估算)。
约定缴款期未到的不算。没有分期约定的合同按合同约定的缴清日期一次缴清计。"""
basis = [
  "《中华人民共和国城市房地产管理法》第十六条：土地使用者必须按照出让合同约定，支付土地使用权出让金；未按照出让合同约定支付的，土地管理部门有权解除合同，并可以请求违约赔偿",
  "《国有建设用地使用权出让合同》示范文本(GF-2008-2601)第三十条：受让人不能按时支付国有建设用地使用权出让价款的，自滞纳之日起，每日按迟延支付款项的1‰向出让人缴纳违约金",
  "《国务院办公厅关于规范国有土地使用权出让收支管理的通知》(国办发〔2006〕100号)：土地出让收入全部缴入地方国库，任何地区、部门和单位都不得以“零地价”等方式减免土地出让价款",
]
entity = ["contract_no"]
unit   = "region_code"
amount = "amount_involved"

optional = ["land_instalments", "land_grants.due_date", "land_grants.parcel_no", "land_grants.grantee", "land_grants.region_code", "land_grants.sign_date", "land_payments.kind", "land_payments.receipt_no"]
one_of   = [["land_instalments.due_date", "land_grants.due_date"]]

[params]
daily_penalty = { type = "float", default = 0.001, min = 0.0001, max = 0.01, doc = "逾期违约金日比例" }
tolerance     = { type = "money", default = 100, min = 0, max = 1000000, doc = "欠缴金额容差(元)" }
*/
WITH schedule AS (
    SELECT contract_no, due_date, amount FROM land_instalments
    UNION ALL
    SELECT g.contract_no, g.due_date, g.price
    FROM land_grants g
    WHERE NOT EXISTS (SELECT 1 FROM land_instalments i WHERE i.contract_no = g.contract_no)
),
due_points AS (
    SELECT contract_no, due_date, amount,
           sum(amount) OVER (PARTITION BY contract_no ORDER BY due_date ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS due_cum
    FROM schedule
),
premium AS (
    SELECT contract_no, pay_date, amount,
           sum(amount) OVER (PARTITION BY contract_no ORDER BY pay_date, receipt_no ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS paid_cum
    FROM land_payments
    WHERE coalesce(kind, '出让价款') <> '违约金' AND pay_date <= $as_of
),
totals AS (
    SELECT contract_no, max(paid_cum) AS paid_total FROM premium GROUP BY contract_no
),
lateness AS (
    -- for each instalment due by the as-of date: the day the running total first covered it,
    -- and what of it is still unpaid on the as-of date
    SELECT d.contract_no, d.due_date, d.amount, d.due_cum, min(p.pay_date) AS covered_on,
           greatest(least(d.amount, d.due_cum - coalesce(max(t.paid_total), 0)), 0) AS unpaid
    FROM due_points d
    LEFT JOIN premium p ON p.contract_no = d.contract_no AND p.paid_cum >= d.due_cum
    LEFT JOIN totals t  ON t.contract_no = d.contract_no
    WHERE d.due_date < $as_of
    GROUP BY d.contract_no, d.due_date, d.amount, d.due_cum
),
late AS (
    -- days late: to the day it was covered, or — still unpaid — to the as-of date; 违约金 owed:
    -- each instalment paid late × its days late, and what is unpaid × the days to the as-of
    -- date, × the daily rate
    SELECT contract_no,
           max(CASE WHEN covered_on IS NULL THEN due_cum ELSE 0 END)                  AS overdue_cum,
           max(CASE WHEN covered_on IS NULL THEN $as_of - due_date
                    WHEN covered_on > due_date THEN covered_on - due_date
                    ELSE 0 END)                                                         AS max_days_late,
           sum(CASE WHEN covered_on IS NULL
                    THEN CAST(unpaid AS DOUBLE) * CAST($as_of - due_date AS DOUBLE) * $daily_penalty
                    WHEN covered_on > due_date
                    THEN CAST(amount AS DOUBLE) * CAST(covered_on - due_date AS DOUBLE) * $daily_penalty
                    ELSE 0 END)                                                         AS penalty_due
    FROM lateness
    GROUP BY contract_no
),
penalties AS (
    SELECT contract_no, sum(amount) AS penalty_paid
    FROM land_payments
    WHERE kind = '违约金' AND pay_date <= $as_of
    GROUP BY contract_no
),
paid AS (
    -- from the payments themselves: DataFusion computes a CTE once per mention, and the
    -- running totals above are a sort of every payment
    SELECT contract_no, sum(amount) AS paid, max(pay_date) AS last_paid
    FROM land_payments
    WHERE coalesce(kind, '出让价款') <> '违约金' AND pay_date <= $as_of
    GROUP BY contract_no
)
SELECT
    g.contract_no,
    g.parcel_no,
    g.grantee,
    g.region_code,
    g.price,
    g.due_date,
    coalesce(p.paid, 0)                                                   AS paid,
    p.last_paid,
    greatest(l.overdue_cum - coalesce(p.paid, 0), 0)                      AS overdue_unpaid,
    l.max_days_late,
    CAST(round(l.penalty_due, 2) AS DECIMAL(18, 2))                       AS penalty_due,
    coalesce(n.penalty_paid, 0)                                           AS penalty_paid,
    CASE WHEN l.overdue_cum - coalesce(p.paid, 0) > $tolerance THEN '到期欠缴' ELSE '逾期缴清未收足违约金' END AS finding,
    CASE WHEN l.overdue_cum - coalesce(p.paid, 0) > $tolerance
         THEN l.overdue_cum - coalesce(p.paid, 0)
         ELSE CAST(round(l.penalty_due - CAST(coalesce(n.penalty_paid, 0) AS DOUBLE), 2) AS DECIMAL(18, 2))
    END                                                                   AS amount_involved
FROM land_grants g
JOIN late l           ON l.contract_no = g.contract_no
LEFT JOIN paid p      ON p.contract_no = g.contract_no
LEFT JOIN penalties n ON n.contract_no = g.contract_no
WHERE (g.sign_date IS NULL OR g.sign_date <= $as_of)
  AND (l.overdue_cum - coalesce(p.paid, 0) > $tolerance
       OR l.penalty_due - CAST(coalesce(n.penalty_paid, 0) AS DOUBLE) > CAST($tolerance AS DOUBLE))
