// The one message table of the dashboards, in 中文 and English, and the language switch. Every
// string a person reads comes from here; the language persists in localStorage and defaults to
// the browser's language.

const M = {
  // ---- everywhere -------------------------------------------------------------------------
  app_name: ['创客脉搏', 'makerpulse'],
  lang_switch: ['English', '中文'],
  lang_switch_tip: ['切换到英文', 'Switch to Chinese'],
  loading: ['加载中…', 'Loading…'],
  reconnecting: ['重新连接中…', 'Reconnecting…'],
  offline_note: ['连接已断开，正在重试', 'Connection lost, retrying'],
  unauthorized: ['链接中的令牌无效或已被撤销。请向组织者索取新链接。', 'The token in this link is unknown or revoked. Ask the organizers for a new link.'],
  not_found: ['没有这个挑战赛。', 'There is no such challenge.'],
  page_not_found: ['没有这个页面。', 'There is no such page.'],
  error_generic: ['出了点问题，页面会自动恢复。', 'Something went wrong; the page will recover by itself.'],
  error_load: ['无法加载，稍后自动重试。', 'Could not load; retrying shortly.'],
  cancel: ['取消', 'Cancel'],
  save: ['保存', 'Save'],
  saved: ['已保存', 'Saved'],
  edit: ['编辑', 'Edit'],
  remove: ['删除', 'Remove'],
  confirm: ['确定', 'Confirm'],
  none_yet: ['暂无', 'Nothing yet'],
  back: ['返回', 'Back'],
  copy: ['复制', 'Copy'],
  copied: ['已复制', 'Copied'],
  seq_n: ['第 {n} 号事件', 'event {n}'],

  // ---- phases and the clock ---------------------------------------------------------------
  phase_setup: ['筹备中', 'Setting up'],
  phase_running: ['进行中', 'Running'],
  phase_judging: ['评审中', 'Judging'],
  phase_frozen: ['封榜', 'Frozen'],
  phase_revealed: ['已揭晓', 'Revealed'],
  clock_left: ['剩余时间', 'Time left'],
  clock_not_started: ['尚未开始', 'Not started'],
  clock_paused: ['已暂停', 'Paused'],
  clock_paused_reason: ['已暂停：{reason}', 'Paused: {reason}'],
  clock_over: ['时间到', "Time's up"],
  clock_planned: ['计划开始：{at}', 'Planned start: {at}'],

  // ---- the board --------------------------------------------------------------------------
  board: ['排行榜', 'Leaderboard'],
  overall: ['总榜', 'Overall'],
  rank: ['名次', 'Rank'],
  team: ['团队', 'Team'],
  track: ['赛道', 'Track'],
  score: ['评委得分', 'Jury score'],
  judges_n: ['{scored}/{assigned} 位评委', '{scored}/{assigned} judges'],
  milestones: ['里程碑', 'Milestones'],
  progress: ['进度', 'Progress'],
  percent_done: ['完成 {p}%', '{p}% done'],
  // A no-break space: the two words stay on one line in a narrow score column.
  no_score: ['待评', 'Not\u00a0scored'],
  being_scored: ['评分中 {scored}/{assigned}', 'Being scored: {scored} of {assigned}'],
  scores_at_reveal: ['评委得分将在揭晓时公布', 'Jury scores are published at the reveal'],
  frozen_banner: ['封榜中 · 结果将在颁奖时揭晓', 'Frozen · the result is revealed at the ceremony'],
  pending_n: ['封榜后新增 {n} 份评分', { one: '{n} new scorecard since the freeze', other: '{n} new scorecards since the freeze' }],
  no_teams: ['还没有团队。', 'No teams yet.'],
  peoples_choice: ['观众人气', "People's choice"],
  cheers_n: ['{n} 次助威', { one: '{n} cheer', other: '{n} cheers' }],
  ticker: ['最新进展', 'Latest updates'],
  no_posts: ['还没有进展。', 'No updates yet.'],
  scan_to_follow: ['扫码用手机观看', 'Scan to follow on your phone'],
  reveal_title: ['揭晓', 'The reveal'],
  reveal_rank: ['第 {rank} 名', 'Place {rank}'],
  reveal_unranked: ['未评分', 'Not ranked'],
  reveal_waiting: ['待揭晓', 'To be revealed'],
  reveal_waiting_n: ['还有 {n} 个名次待揭晓', { one: '{n} place still to be revealed', other: '{n} places still to be revealed' }],
  board_page: ['第 {from}–{to} 行，共 {n} 队', '{from}–{to} of {n}'],
  reveal_page: ['已揭晓 {n} 队，此为第 {from}–{to} 队', '{from}–{to} of {n} revealed'],
  final_result: ['最终结果', 'Final result'],
  on_time: ['按时', 'on time'],
  late: ['逾期', 'late'],
  due_at: ['T+{h} 小时', 'T+{h} h'],

  // ---- landing ------------------------------------------------------------------------------
  landing_title: ['创客真人秀 · 实时追踪', 'Maker Reality Show · live tracker'],
  landing_lead: ['中外创客 72 小时从创意到成品，全程直播。', 'International makers go from idea to finished thing in 72 hours, live.'],
  challenges: ['挑战赛', 'Challenges'],
  no_challenges: ['还没有挑战赛。组织者可在管理控制台创建。', 'No challenges yet. Organizers create one in the admin console.'],
  link_screen: ['大屏', 'Big screen'],
  link_phone: ['手机观看', 'Phone'],
  link_replay: ['回放', 'Replay'],
  link_embed: ['嵌入', 'Embed'],
  link_admin: ['管理控制台', 'Admin console'],
  link_api: ['开放接口', 'API'],

  // ---- phone ----------------------------------------------------------------------------------
  tab_board: ['排行', 'Board'],
  tab_feed: ['动态', 'Updates'],
  tab_cheers: ['人气', 'Cheers'],
  all_tracks: ['全部', 'All'],
  members: ['成员', 'Members'],
  timeline: ['时间线', 'Timeline'],
  cheer: ['助威', 'Cheer'],
  cheer_slow: ['太快啦，稍等一下', 'Easy, a moment please'],
  cheer_closed: ['现在不能助威', 'Cheering is closed now'],
  my_cheers: ['我已助威 {n} 次', { one: 'You cheered once', other: 'You cheered {n} times' }],
  team_result: ['最终第 {rank} 名 · {score} 分', 'Final place {rank} · {score} points'],
  view_team: ['查看团队', 'View team'],
  started_idea: ['挑战开始', 'The challenge began'],
  milestone_reached: ['达成里程碑：{name}', 'Milestone reached: {name}'],
  milestone_news: ['{team} 达成里程碑「{name}」', '{team} reached {name}'],
  milestone_withdrawn: ['已撤回', 'withdrawn'],
  milestone_withdrawn_reason: ['已撤回：{reason}', 'withdrawn: {reason}'],
  team_milestone_undone: ['组织者撤销了里程碑「{name}」：{reason}', 'The organizers took back the milestone “{name}”: {reason}'],
  undo_milestone: ['撤销', 'Undo'],
  undo_milestone_tip: ['撤销 {team} 的里程碑「{name}」', 'Undo {team}’s milestone “{name}”'],
  undo_milestone_title: ['撤销 {team} 的里程碑「{name}」', 'Take back {team}’s milestone “{name}”'],
  undo_milestone_later: ['之后达成的里程碑也会一并撤销：{names}', 'The later ones it reached go with it: {names}'],
  undo_reason_ph: ['原因（必填，将告知该团队）', 'Reason (required; the team is told)'],
  undo_confirm: ['撤销里程碑', 'Take it back'],
  milestone_undone_ok: ['里程碑已撤销', 'Milestone taken back'],
  link: ['链接', 'Link'],
  photo_alt: ['进展照片', 'Progress photo'],

  // ---- disciplines and panel roles ------------------------------------------------------------
  discipline_software: ['软件工程师', 'Software engineer'],
  discipline_hardware: ['硬件工程师', 'Hardware engineer'],
  discipline_design: ['设计师', 'Designer'],
  discipline_maker: ['创意达人', 'Maker'],
  discipline_business: ['商业', 'Business'],
  discipline_other: ['其他', 'Other'],
  role_maker_representative: ['创客代表', 'Maker representative'],
  role_domain_expert: ['领域专家', 'Domain expert'],
  role_enterprise_representative: ['企业代表', 'Enterprise representative'],
  role_investor: ['投资人', 'Investor'],

  // ---- team console ---------------------------------------------------------------------------
  team_console: ['团队控制台', 'Team console'],
  need_link: ['请用组织者发给你的链接打开此页面。', 'Open this page with the link the organizers sent you.'],
  post_update: ['发布进展', 'Post an update'],
  post_text_ph: ['刚刚完成了什么？', 'What did you just get done?'],
  add_photo: ['拍照 / 选择照片', 'Take or choose a photo'],
  add_link_ph: ['链接（可选）https://…', 'Link (optional) https://…'],
  percent_label: ['完成度 {p}%', '{p}% done'],
  percent_unset: ['完成度（不填）', 'Percent done (not set)'],
  publish: ['发布', 'Post'],
  post_needs_content: ['请写点文字，或加一张照片或一个链接。', 'Write some text, or add a photo or a link.'],
  photo_too_big: ['照片太大（最多 5 MB）。', 'The photo is too large (5 MB at most).'],
  photo_bad_type: ['只能上传 PNG、JPEG 或 WebP 图片。', 'Only PNG, JPEG or WebP images.'],
  photos_max: ['最多 {n} 张照片。', 'At most {n} photos.'],
  outbox: ['待发送', 'Outbox'],
  outbox_waiting: ['等待网络，联网后自动发送', 'Waiting for the network; sent automatically'],
  outbox_sending: ['发送中…', 'Sending…'],
  outbox_failed: ['未被接受：{msg}', 'Not accepted: {msg}'],
  outbox_discard: ['放弃', 'Discard'],
  outbox_n: ['{n} 条待发送', '{n} waiting to send'],
  post_queued: ['已保存，联网后发送', 'Saved; it will be sent when online'],
  outbox_refused_n: ['{n} 条未被接受', '{n} not accepted'],
  outbox_correct: ['修改后重发', 'Correct'],
  outbox_waiting_short: ['待发送', 'waiting to send'],
  queue_not_kept: ['浏览器无法保存它：请保持此页面打开，直到发送完成', 'The browser could not store it: keep this page open until it is sent'],
  queued_milestone: ['里程碑「{name}」已完成', 'Milestone “{name}” reached'],
  milestone_queued: ['里程碑已保存，联网后发送', 'Milestone saved; it will be sent when online'],
  milestone_sent: ['里程碑已标记', 'Milestone marked'],
  stale_view: ['离线：显示 {time} 时的最后状态，正在重新连接…', 'Offline: showing the last known state from {time}; reconnecting…'],
  post_sent: ['已发布', 'Posted'],
  photos_n: ['{n} 张照片', 'Photos: {n}'],
  remove_photo: ['移除照片', 'Remove photo'],
  next_milestone: ['下一个里程碑', 'Next milestone'],
  mark_reached: ['标记为已达成', 'Mark as reached'],
  milestone_note_ph: ['备注（可选）', 'Note (optional)'],
  all_milestones_done: ['全部里程碑已达成！', 'Every milestone reached!'],
  your_timeline: ['我们的时间线', 'Our timeline'],
  not_building: ['现在不在创作阶段，不能发布。', 'Building is not under way; posting is closed.'],
  hidden_post: ['已被组织者隐藏', 'Hidden by the organizers'],

  // ---- judge console --------------------------------------------------------------------------
  judge_console: ['评委控制台', 'Judge console'],
  my_progress: ['已评 {done} / {total}', 'Scored {done} of {total}'],
  assigned_teams: ['我的评审团队', 'My teams'],
  no_assigned: ['还没有分配给你的团队。', 'No teams are assigned to you yet.'],
  status_unscored: ['未评分', 'Not scored'],
  status_scored: ['已评分', 'Scored'],
  status_incomplete: ['未完成', 'Incomplete'],
  status_conflict: ['利益冲突', 'Conflict of interest'],
  revision_n: ['第 {n} 版', 'revision {n}'],
  rubric: ['评分标准', 'Rubric'],
  weight_n: ['权重 {w}', 'weight {w}'],
  scale_n: ['{min}–{max} 分', '{min}–{max} points'],
  total_preview: ['加权总分 {total}', 'Weighted total {total}'],
  comment_ph: ['评语（团队和组织者可见）', 'Comment (for the team and the organizers)'],
  reason_ph: ['修改原因（必填）', 'Reason for the revision (required)'],
  reason_needed: ['修改评分需要填写原因。', 'A revision needs a reason.'],
  submit_scorecard: ['提交评分', 'Submit scorecard'],
  revise_scorecard: ['修改评分', 'Revise scorecard'],
  scorecard_sent: ['{team} 的评分已送达', 'Scorecard for {team} delivered'],
  scorecard_queued: ['评分已保存，联网后发送', 'Scorecard saved; it will be sent when online'],
  conflict_queued: ['声明已保存，联网后发送', 'Declaration saved; it will be sent when online'],
  queued_scorecard: ['{team} 的评分', 'Scorecard for {team}'],
  queued_revision: ['{team} 的评分修订', 'Revised scorecard for {team}'],
  queued_conflict: ['与 {team} 的利益冲突声明', 'Conflict of interest with {team}'],
  scoring_is_closed: ['评分尚未开放或已关闭。', 'Scoring is not open.'],
  declare_conflict: ['声明利益冲突', 'Declare a conflict of interest'],
  conflict_reason_ph: ['原因', 'Reason'],
  conflict_declared: ['已声明利益冲突，不再评审该团队。', 'Conflict declared; you no longer score this team.'],
  history: ['修改记录', 'History'],
  earlier_revisions: ['另有 {n} 次更早的修改，保存在事件日志中', '{n} earlier revisions, kept in the event log'],
  choose_team: ['请选择一个团队开始评分。', 'Choose a team to score.'],
  blind_note: ['评审期间看不到其他评委的评分。', 'Other judges’ scores stay hidden while you score.'],
  missing_scores: ['还有 {n} 项未打分', { one: '{n} criterion still unscored', other: '{n} criteria still unscored' }],

  // ---- admin console ----------------------------------------------------------------------------
  admin_console: ['管理控制台', 'Admin console'],
  admin_need_token: ['请用启动时打印的管理链接打开，或在此粘贴管理员令牌。', 'Open the admin link printed at start, or paste the admin token here.'],
  admin_token_ph: ['管理员令牌', 'Admin token'],
  sign_in: ['进入', 'Enter'],
  sign_out: ['退出', 'Sign out'],
  choose_challenge: ['选择挑战赛', 'Choose a challenge'],
  create_challenge: ['创建挑战赛', 'Create a challenge'],
  challenge_id_ph: ['编号（字母、数字、- 或 _）', 'Id (letters, digits, - or _)'],
  title_zh_ph: ['中文名称', 'Name in Chinese'],
  title_en_ph: ['英文名称', 'Name in English'],
  desc_zh_ph: ['中文简介', 'Description in Chinese'],
  desc_en_ph: ['英文简介', 'Description in English'],
  tab_run: ['运行', 'Run'],
  tab_setup: ['设置', 'Setup'],
  tab_teams: ['团队', 'Teams'],
  tab_judges: ['评委', 'Judges'],
  tab_scores: ['成绩', 'Scores'],
  tab_audit: ['审计', 'Audit'],
  tab_posts: ['进展审核', 'Posts'],
  clock: ['计时', 'Clock'],
  start_clock: ['开始计时', 'Start the clock'],
  pause_clock: ['暂停', 'Pause'],
  pause_reason_ph: ['暂停原因（观众可见）', 'Reason (shown to the audience)'],
  resume_clock: ['继续', 'Resume'],
  end_building: ['结束创作，进入评审', 'End building, start judging'],
  scoring: ['评分', 'Scoring'],
  open_scoring: ['开放评分', 'Open scoring'],
  close_scoring: ['关闭评分', 'Close scoring'],
  scoring_open_now: ['评分已开放', 'Scoring is open'],
  scoring_closed_now: ['评分已关闭', 'Scoring is closed'],
  freeze: ['封榜', 'Freeze the board'],
  reveal_next: ['揭晓下一名', 'Reveal the next place'],
  revealed_n: ['已揭晓 {n} / {total}', 'Revealed {n} of {total}'],
  import_title: ['从 CSV 导入', 'Import from CSV'],
  import_note: ['团队或评委，每行一个；按表头识别。全部无误才会导入，否则一行也不导入。', 'Teams or judges, one per row, told apart by the header. Everything is imported or nothing is.'],
  import_paste: ['粘贴 CSV，或选择文件', 'Paste CSV here, or choose a file'],
  import_file: ['CSV 文件', 'CSV file'],
  import_text: ['CSV 内容', 'CSV text'],
  import_check: ['检查', 'Check'],
  import_send_teams: ['导入 {n} 个团队', { one: 'Import {n} team', other: 'Import {n} teams' }],
  import_send_judges: ['导入 {n} 位评委', { one: 'Import {n} judge', other: 'Import {n} judges' }],
  import_done: ['已导入 {n} 行', { one: 'Imported {n} row', other: 'Imported {n} rows' }],
  import_empty: ['没有内容。', 'There is nothing to import.'],
  import_unknown_header: ['无法识别表头：团队需要 track 列，评委需要 panel_role 列。', 'Unknown header: teams need a track column, judges a panel_role column.'],
  import_row: ['第 {row} 行', 'Row {row}'],
  import_no_id: ['缺少编号', 'no id'],
  import_no_name: ['缺少名称', 'no name'],
  import_no_track: ['缺少赛道', 'no track'],
  import_bad_role: ['评委身份无效：{value}', 'unknown panel role: {value}'],
  import_bad_discipline: ['专业无效：{value}', 'unknown discipline: {value}'],
  import_template_teams: ['团队模板', 'Teams template'],
  import_template_judges: ['评委模板', 'Judges template'],
  link_sheet: ['链接卡片', 'Link sheet'],
  link_sheet_note: ['为每个团队和评委生成控制台链接，打印成带二维码的卡片，或下载 CSV。链接只显示这一次。', 'Mint a console link for every team and judge, print them as cards with QR codes, or download them as CSV. Links are shown only this once.'],
  mint_all_links: ['为全部 {n} 人生成链接', 'Mint links for all {n}'],
  remint_all_links: ['撤销旧链接并全部重新生成', 'Revoke old links and mint all again'],
  links_once: ['这些链接只显示这一次：现在打印或下载。', 'These links are shown only this once: print or download them now.'],
  minting_n: ['正在生成链接… {done}/{n}', 'Minting links… {done} of {n}'],
  links_revoked: ['旧链接已撤销', 'Old links revoked'],
  remint: ['补发链接', 'Replace a lost link'],
  print: ['打印', 'Print'],
  download_csv: ['下载 CSV', 'Download CSV'],
  close: ['关闭', 'Close'],
  result_sheet: ['最终结果', 'The result'],
  col_rank: ['名次', 'Place'],
  col_team: ['团队', 'Team'],
  col_score: ['得分', 'Score'],
  outstanding_title: ['还有评分表未完成', 'Scorecards are still missing'],
  outstanding_summary: ['应交 {n} 份评分表，缺 {missing} 份。', { one: 'The one scorecard owed is missing.', other: '{missing} of the {n} scorecards owed are missing.' }],
  outstanding_by_judge: ['按评委', 'By judge'],
  outstanding_by_team: ['按团队', 'By team'],
  outstanding_missing: ['未评：{teams}', 'not scored: {teams}'],
  outstanding_incomplete: ['未评完：{teams}', 'incomplete: {teams}'],
  outstanding_waits: ['等待：{judges}', 'waiting for: {judges}'],
  outstanding_no_panel: ['没有评委可以给这些团队评分：{teams}', 'No judge can score these teams: {teams}'],
  outstanding_accept: ['我知道这些评分表缺失，仍要继续', 'I know these scorecards are missing and want to go ahead'],
  close_scoring_anyway: ['仍然关闭评分', 'Close scoring anyway'],
  freeze_anyway: ['仍然封榜', 'Freeze the board anyway'],
  reveal_next_anyway: ['仍然开始揭晓', 'Begin the reveal anyway'],
  list_sep: ['、', ', '],
  online: ['在线', 'Online'],
  online_counts: ['观众 {audience} · 团队 {team} · 评委 {judge} · 管理 {admin}', 'audience {audience} · teams {team} · judges {judge} · admins {admin}'],
  pages: ['页面', 'Pages'],
  challenge_details: ['挑战赛信息', 'Challenge'],
  duration_hours: ['时长（小时）', 'Duration (hours)'],
  planned_start: ['计划开始', 'Planned start'],
  tracks: ['赛道', 'Tracks'],
  track_id_ph: ['赛道编号', 'Track id'],
  add_track: ['添加赛道', 'Add a track'],
  rubric_scale: ['分值范围', 'Scale'],
  criterion: ['评分项', 'Criterion'],
  weight: ['权重', 'Weight'],
  criterion_id_ph: ['评分项编号', 'Criterion id'],
  add_criterion: ['添加评分项', 'Add a criterion'],
  save_rubric: ['保存评分标准', 'Save the rubric'],
  milestone_id_ph: ['里程碑编号', 'Milestone id'],
  due_hours_ph: ['截止（T+小时，可选）', 'Due (T+hours, optional)'],
  add_milestone: ['添加里程碑', 'Add a milestone'],
  save_milestones: ['保存里程碑', 'Save the milestones'],
  ranking_method: ['计分方式', 'Ranking method'],
  role_weight: ['{role} 权重', '{role} weight'],
  normalize: ['按评委标准化（消除宽严差异）', 'Normalise per judge (cancel lenient and harsh judges)'],
  save_ranking: ['保存计分方式', 'Save the ranking method'],
  publication: ['公布方式', 'Publication of jury scores'],
  pub_on_complete: ['评委组全部评完后公布该队得分（盲评，默认）', "A team's score once its whole panel has scored (blind, the default)"],
  pub_live: ['每份评分即时公布（非盲评）', 'Every scorecard moves the board at once (not blind)'],
  pub_at_reveal: ['揭晓前不公布任何得分', 'No jury numbers before the reveal'],
  pub_live_warning: ['非盲评：前后两次榜单之差就是某位评委的分数。仅适用于非正式活动。', "Not blind: the difference between two boards is one judge's score. For informal events only."],
  pub_normalize_note: ['开启标准化后，每份新评分都会改变所有标准化得分，因此要等所有评委组都评完才统一公布。', 'With normalisation on, every new scorecard moves every normalised score, so scores appear all at once when every panel is complete.'],
  publication_now: ['公布方式：{rule}', 'Publication: {rule}'],
  reopen_reason_ph: ['重新开放评分的原因（必填，记入审计）', 'Why scoring reopens (required, kept in the audit trail)'],
  reopen_needs_reason: ['封榜期间重新开放评分需要填写原因。', 'Reopening scoring during the freeze needs a reason.'],
  scoring_reopened: ['封榜期间重新开放评分：{reason}', 'Scoring reopened during the freeze: {reason}'],
  team_id_ph: ['团队编号', 'Team id'],
  contact_ph: ['联系方式（仅组织者可见）', 'Contact (organizers only)'],
  member_name_ph: ['成员姓名', 'Member name'],
  region_ph: ['国家或地区', 'Country or region'],
  add_member: ['添加成员', 'Add a member'],
  add_team: ['添加团队', 'Add a team'],
  save_team: ['保存团队', 'Save the team'],
  judge: ['评委', 'Judge'],
  judge_id_ph: ['评委编号', 'Judge id'],
  affiliation_zh_ph: ['单位（中文）', 'Affiliation in Chinese'],
  affiliation_en_ph: ['单位（英文）', 'Affiliation in English'],
  panel_role: ['评委类别', 'Panel role'],
  assignment: ['评审范围', 'Assignment'],
  assigned_tracks: ['整个赛道', 'Whole tracks'],
  assigned_teams_extra: ['另加团队', 'Extra teams'],
  conflicts: ['利益冲突', 'Conflicts of interest'],
  add_judge: ['添加评委', 'Add a judge'],
  save_judge: ['保存评委', 'Save the judge'],
  mint_link: ['生成链接', 'Make a link'],
  revoke: ['撤销链接', 'Revoke links'],
  link_once: ['此链接只显示这一次，请立即发给对方。', 'This link is shown only once; send it now.'],
  tokens_live: ['有效链接 {n} 个', { one: '{n} live link', other: '{n} live links' }],
  tokens_none: ['尚无链接', 'No link yet'],
  breakdown: ['得分明细', 'Breakdown'],
  contribution_total: ['总分 {t}', 'total {t}'],
  contribution_normalized: ['标准化 {t}', 'normalised {t}'],
  contribution_weight: ['权重 {w}', 'weight {w}'],
  excluded_incomplete: ['未完成，不计入', 'incomplete, not counted'],
  excluded_not_assigned: ['未分配，不计入', 'not assigned, not counted'],
  excluded_conflicted: ['利益冲突，不计入', 'conflict, not counted'],
  scorecards_audit: ['评分表与修改记录', 'Scorecards and revisions'],
  no_scorecards: ['还没有评分表。', 'No scorecards yet.'],
  event_log: ['事件日志', 'Event log'],
  load_log: ['加载最新 200 条', 'Load the newest 200'],
  hide: ['隐藏', 'Hide'],
  hide_reason_ph: ['隐藏原因', 'Reason for hiding'],
  hidden_reason: ['已隐藏：{reason}', 'Hidden: {reason}'],
  cmd_ok: ['已完成', 'Done'],
  id_invalid: ['编号只能用字母、数字、- 或 _（最多 64 个）。', 'Ids are letters, digits, - or _ (64 at most).'],
  setup_only: ['只能在筹备阶段修改。', 'Only while setting up.'],

  // ---- the event log, by event type (the audit tab) ---------------------------------------------
  ev_challenge_created: ['创建挑战赛', 'Challenge created'],
  ev_challenge_updated: ['修改挑战赛信息', 'Challenge details changed'],
  ev_track_added: ['添加赛道', 'Track added'],
  ev_track_updated: ['修改赛道', 'Track changed'],
  ev_track_removed: ['删除赛道', 'Track removed'],
  ev_rubric_set: ['设定评分标准', 'Rubric set'],
  ev_milestones_set: ['设定里程碑', 'Milestones set'],
  ev_ranking_set: ['设定计分方式', 'Ranking method set'],
  ev_team_added: ['添加团队', 'Team added'],
  ev_team_updated: ['修改团队', 'Team changed'],
  ev_team_removed: ['删除团队', 'Team removed'],
  ev_judge_added: ['添加评委', 'Judge added'],
  ev_judge_updated: ['修改评委', 'Judge changed'],
  ev_judge_removed: ['删除评委', 'Judge removed'],
  ev_token_issued: ['发放链接', 'Link issued'],
  ev_tokens_revoked: ['撤销链接', 'Links revoked'],
  ev_challenge_started: ['开始计时', 'Clock started'],
  ev_clock_paused: ['暂停计时', 'Clock paused'],
  ev_clock_resumed: ['继续计时', 'Clock resumed'],
  ev_building_ended: ['结束创作', 'Building ended'],
  ev_scoring_opened: ['开放评分', 'Scoring opened'],
  ev_scoring_closed: ['关闭评分', 'Scoring closed'],
  ev_frozen: ['封榜', 'Board frozen'],
  ev_team_revealed: ['揭晓名次', 'Place revealed'],
  ev_result_final: ['结果确定', 'Result final'],
  ev_post_hidden: ['隐藏进展', 'Post hidden'],
  ev_progress_posted: ['发布进展', 'Progress posted'],
  ev_milestone_reached: ['达成里程碑', 'Milestone reached'],
  ev_milestone_undone: ['撤销里程碑', 'Milestone taken back'],
  ev_scorecard_submitted: ['提交评分表', 'Scorecard submitted'],
  ev_conflict_declared: ['申报利益冲突', 'Conflict of interest declared'],
  ev_cheers_tallied: ['统计助威', 'Cheers tallied'],

  // ---- replay -------------------------------------------------------------------------------------
  replay: ['回放', 'Replay'],
  replay_at: ['T+{t}', 'T+{t}'],
  play: ['播放', 'Play'],
  pause: ['暂停', 'Pause'],
  replay_speed: ['播放速度', 'Playback speed'],
  replay_live: ['回到现在', 'Back to now'],
  replay_empty: ['还没有可以回放的内容。', 'Nothing to replay yet.'],
  embed_powered: ['创客脉搏实时榜单', 'Live board by makerpulse'],
  replay_slider: ['回放时间', 'Replay time'],
  step_back: ['上一个事件', 'Previous event'],
  step_forward: ['下一个事件', 'Next event'],

  // ---- accessibility: names of controls, and what the live region says ----------------------
  theme_light: ['浅色主题', 'Light theme'],
  theme_light_tip: ['明亮的场馆里用浅色主题；选择会被记住', 'A light theme for bright halls; the choice is remembered'],
  page_tabs: ['页面', 'Sections'],
  console_tabs: ['控制台', 'Console'],
  cheer_for: ['为 {team} 助威', 'Cheer for {team}'],
  milestones_reached: ['里程碑：已完成 {done}/{total}', 'Milestones: {done} of {total} reached'],
  announce_score: ['{team}：{score} 分，第 {rank} 名', '{team}: {score}, place {rank}'],
  announce_score_unranked: ['{team}：{score} 分', '{team}: {score}'],
  announce_reveal: ['揭晓：{team}，{place}', 'Revealed: {team}, {place}'],
  announce_more: ['另有 {n} 条更新', 'and {n} more updates'],
};

/** Message keys the pages asked for that the table lacks; the browser tests check it is empty. */
export const missing = new Set();

const listeners = new Set();

function initial() {
  const query = new URLSearchParams(location.search).get('lang');
  if (query === 'zh' || query === 'en') return query;
  try {
    const stored = localStorage.getItem('mp.lang');
    if (stored === 'zh' || stored === 'en') return stored;
  } catch {
    // Storage may be off (private mode, a sandboxed frame): the browser's language decides.
  }
  const first = (navigator.languages && navigator.languages[0]) || navigator.language || 'en';
  return /^zh\b/i.test(first) ? 'zh' : 'en';
}

let current = initial();

/** The current language: 'zh' or 'en'. */
export function lang() {
  return current;
}

/** Whether the table has `key`. */
export function has(key) {
  return Object.prototype.hasOwnProperty.call(M, key);
}

const pluralRules = {};
/** The plural category of `n` in the current language. */
function plurals(n) {
  const count = typeof n === 'number' ? n : Number(String(n).replace(/[^\d.-]/g, ''));
  pluralRules[current] ??= new Intl.PluralRules(current === 'zh' ? 'zh-CN' : 'en-GB');
  return pluralRules[current].select(Number.isFinite(count) ? count : 0);
}

/** The message `key` in the current language, with `{name}` placeholders filled from `vars`. */
export function t(key, vars) {
  const entry = M[key];
  if (!entry) {
    missing.add(key);
    return key;
  }
  let s = entry[current === 'zh' ? 0 : 1];
  // A message that depends on a count has its forms by plural category: `{one, other}`, chosen
  // for `vars.n` (a number, or a number already formatted with digit separators).
  if (typeof s === 'object') s = s[plurals(vars ? vars.n : 0)] ?? s.other;
  if (vars) s = s.replace(/\{(\w+)\}/g, (_, name) => (vars[name] === undefined ? '' : String(vars[name])));
  return s;
}

/** A bilingual text of the data (`{zh, en}`) in the current language, or the other one. */
export function loc(text) {
  if (!text) return '';
  const first = current === 'zh' ? text.zh : text.en;
  const second = current === 'zh' ? text.en : text.zh;
  return first || second || '';
}

/** Changes the language, remembers it, and re-translates the page. */
export function setLang(next) {
  if (next !== 'zh' && next !== 'en') return;
  current = next;
  try {
    localStorage.setItem('mp.lang', next);
  } catch {
    // Not persisted; the switch still works for this page.
  }
  document.documentElement.lang = next === 'zh' ? 'zh-CN' : 'en';
  retranslate(document);
  for (const fn of listeners) fn(next);
}

/** Calls `fn` after every language change. */
export function onLang(fn) {
  listeners.add(fn);
  return () => listeners.delete(fn);
}

/** Re-translates every element under `root` that carries a message key. */
export function retranslate(root) {
  for (const el of root.querySelectorAll('[data-i18n]')) {
    const vars = el.dataset.i18nVars ? JSON.parse(el.dataset.i18nVars) : undefined;
    el.textContent = t(el.dataset.i18n, vars);
  }
  for (const el of root.querySelectorAll('[data-i18n-ph]')) el.placeholder = t(el.dataset.i18nPh);
  for (const el of root.querySelectorAll('[data-i18n-tip]')) el.title = t(el.dataset.i18nTip);
  for (const el of root.querySelectorAll('[data-i18n-label]')) el.setAttribute('aria-label', t(el.dataset.i18nLabel));
}

document.documentElement.lang = current === 'zh' ? 'zh-CN' : 'en';

const numberFormats = {};

/** A number with `digits` decimals in the current locale. */
export function num(x, digits = 2) {
  const key = `${current}:${digits}`;
  numberFormats[key] ??= new Intl.NumberFormat(current === 'zh' ? 'zh-CN' : 'en-GB', {
    minimumFractionDigits: digits,
    maximumFractionDigits: digits,
  });
  return numberFormats[key].format(x);
}

/** A date and time, short, in the viewer's time zone. */
export function when(iso) {
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return '';
  return d.toLocaleString(current === 'zh' ? 'zh-CN' : 'en-GB', {
    month: 'short',
    day: 'numeric',
    hour: '2-digit',
    minute: '2-digit',
  });
}

/** A time of day, short. */
export function clockTime(iso) {
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return '';
  return d.toLocaleTimeString(current === 'zh' ? 'zh-CN' : 'en-GB', { hour: '2-digit', minute: '2-digit' });
}
