#!/usr/bin/env bash
# A one-machine Slurm (controller and compute node on this host) to try the job arrays on, as in
# environment.md ("Slurm"). Debian 12, as root; not for a real cluster (no accounting, no cgroups).
#   sudo bash scripts/slurm/single-node.sh      then: sinfo; bash scripts/slurm/submit.sh <sweep options>
set -euo pipefail
export DEBIAN_FRONTEND=noninteractive
command -v slurmctld >/dev/null || apt-get install -y slurm-wlm munge
host="$(hostname -s)"
# The node's CPUs and memory as slurmd sees them (memory a little under it, so jobs are not refused).
node="$(slurmd -C | head -n 1)"
mem="$(sed -E 's/.*RealMemory=([0-9]+).*/\1/' <<<"$node")"
node="$(sed -E "s/RealMemory=[0-9]+/RealMemory=$((mem * 9 / 10))/" <<<"$node")"
mkdir -p /etc/slurm /var/spool/slurmctld /var/spool/slurmd /var/log/slurm /run/munge
cat > /etc/slurm/slurm.conf <<CONF
# Single-node Slurm for gcg's job arrays (written by scripts/slurm/single-node.sh).
ClusterName=gcg
SlurmctldHost=${host}
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
MpiDefault=none
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SchedulerType=sched/backfill
SelectType=select/cons_tres
SelectTypeParameters=CR_CPU_Memory
ReturnToService=2
StateSaveLocation=/var/spool/slurmctld
SlurmdSpoolDir=/var/spool/slurmd
SlurmctldPidFile=/run/slurmctld.pid
SlurmdPidFile=/run/slurmd.pid
SlurmctldLogFile=/var/log/slurm/slurmctld.log
SlurmdLogFile=/var/log/slurm/slurmd.log
AccountingStorageType=accounting_storage/none
JobAcctGatherType=jobacct_gather/none
JobCompType=jobcomp/none
${node} State=UNKNOWN
PartitionName=main Nodes=ALL Default=YES MaxTime=INFINITE State=UP
CONF
chown munge:munge /run/munge
pgrep -x munged >/dev/null || su -s /bin/sh munge -c /usr/sbin/munged
pgrep -x slurmctld >/dev/null || slurmctld
pgrep -x slurmd >/dev/null || slurmd
sleep 2
sinfo
